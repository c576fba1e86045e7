/**
 * Everything one charger session does for its secondaries, carried out after the
 * frame has been forwarded (the routing table's order): stores each charger CALL
 * and SEND for every secondary link, watches the primary's traffic for what the
 * mirror must learn (its outstanding CALL, its transaction ids), and routes the
 * charger's answers to secondaries' commands through the call gate.
 *
 * Nothing here blocks: store writes are asynchronous, and a failure is contained
 * (logged, counted) before it could reach the charger ↔ primary path.
 */
import { createHash } from 'node:crypto';
import type { FrameCounts } from '../diagnostics/frame-counts.js';
import type { Logger } from '../logging/logger.js';
import type { SecondaryConfig } from '../config/schema.js';
import type { Keepalive } from '../links/keepalive.js';
import type { OcppVersion } from '../ocpp/error-codes.js';
import { MessageType, parseFrame } from '../ocpp/frame.js';
import { scanFrameHeadWithBody, type FrameHead } from '../ocpp/scan.js';
import { NO_FACTS, type FrameKind, type RouteAction, type RouteFacts } from '../routing/route-frame.js';
import {
  classifyChargerCall,
  isBootNotification,
  needsClassification,
  primaryTransactionIdFromStartResult,
  type ChargerCallInfo,
} from '../routing/transactions.js';
import { secondaryStoreKey } from '../store/sqlite-store.js';
import type { MirrorStore } from '../store/store.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';
import { CallGate } from './call-gate.js';
import type { MirrorCounters } from './counters.js';
import { contain } from './contain.js';
import type { LeaseHandle } from './lease-keeper.js';
import type { MemoryBudget } from './memory-budget.js';
import { SecondaryLink, secondaryLabel, type MirroredMessage, type MirrorTiming } from './secondary-link.js';

export interface SessionMirrorOptions {
  readonly chargerId: string;
  readonly urlSegment: string;
  readonly subprotocol: string;
  readonly version: OcppVersion;
  readonly chargerAuthorization: string | undefined;
  readonly secondaries: readonly SecondaryConfig[];
  /** The TLS options of the secondaries that have any, read at start. */
  readonly secondaryTls?: ReadonlyMap<SecondaryConfig, UpstreamTls>;
  readonly store: MirrorStore;
  readonly budget: MemoryBudget;
  readonly lease: LeaseHandle;
  readonly keepalive: Keepalive;
  readonly log: Logger;
  readonly counters: MirrorCounters;
  readonly timing: MirrorTiming;
  /** Sends a proxy-originated frame to the charger; false when the charger is gone. */
  readonly sendToCharger: (text: string) => boolean;
  /** Whether the operator paused the secondary with this label (its links start paused). */
  readonly isPaused?: (label: string) => boolean;
  /** The session's frame counters, where the secondaries' frames are counted. */
  readonly frameCounts?: FrameCounts;
}

/**
 * How long a new session waits for the session it replaces to close its secondary
 * sockets (an in-flight answer recorded) before delivering the same outboxes: long
 * enough for a close handshake, short enough that a secondary ignoring our close
 * frame cannot stall the mirror. Its store writes are always waited for.
 */
export const HANDOVER_MAX_WAIT_MS = 2_000;

/** Primary StartTransaction answers still awaited: a bound, since a primary may never answer. */
const MAX_PENDING_STARTS = 64;

const MIRRORING_FACTS: RouteFacts = { ...NO_FACTS, mirroring: true };
/** Most charger frames (its CALLs): nothing to look up. */
const NOTHING_TO_PLACE = { facts: MIRRORING_FACTS, id: undefined } as const;

/** The message id of a malformed CALLRESULT / CALLERROR, when it can still be read. */
function answerIdOfMalformed(data: Buffer): string | undefined {
  const parsed = parseFrame(data);
  if (parsed.ok) return undefined;
  const { messageType, messageId } = parsed.error;
  return messageType === MessageType.CallResult || messageType === MessageType.CallError ? messageId : undefined;
}

const UNCLASSIFIED: ChargerCallInfo = { priority: 'droppable', role: 'none', txId: null, carriesIdTag: false };

export class SessionMirror {
  readonly #o: SessionMirrorOptions;
  readonly #gate: CallGate;
  readonly #links: SecondaryLink[];
  /** 1.6: charger StartTransaction message id → the startRef its mirrors carry. */
  readonly #pendingStarts = new Map<string, string>();
  #closed = false;
  #resolveClosing!: () => void;
  /** Settles when `close()` is called (the session ends), before the links have let go. */
  readonly closing = new Promise<void>((resolve) => {
    this.#resolveClosing = resolve;
  });

  constructor(options: SessionMirrorOptions) {
    this.#o = options;
    this.#gate = new CallGate(options.sendToCharger, options.timing.answerTimeoutMs, (error) => {
      options.counters.mirrorFailures += 1;
      options.log.error({ err: error }, 'call gate failure contained; the charger and the primary are unaffected');
    });
    this.#links = options.secondaries.map(
      (secondary) =>
        new SecondaryLink({
          chargerId: options.chargerId,
          urlSegment: options.urlSegment,
          subprotocol: options.subprotocol,
          version: options.version,
          chargerAuthorization: options.chargerAuthorization,
          secondary,
          tls: options.secondaryTls?.get(secondary),
          secondaryKey: secondaryStoreKey(secondary),
          store: options.store,
          budget: options.budget,
          gate: this.#gate,
          lease: options.lease,
          keepalive: options.keepalive,
          log: options.log,
          counters: options.counters,
          timing: options.timing,
          paused: options.isPaused?.(secondaryLabel(secondary)) ?? false,
          frameCounts: options.frameCounts,
        }),
    );
  }

  /** The operator paused (or resumed) the secondary with this label. */
  setPaused(label: string, paused: boolean): void {
    for (const link of this.#links) {
      if (link.label !== label) continue;
      this.#contain(paused ? 'pausing a secondary link' : 'resuming a secondary link', () => (paused ? link.pause() : link.resume()), undefined);
    }
  }

  /** Starts every link; after `previous` (the mirror of a replaced session) has let go, if given. */
  start(previous?: SessionMirror): void {
    const after = previous === undefined ? Promise.resolve() : previous.handedOver();
    for (const link of this.#links) this.#contain('starting a secondary link', () => link.start(after), undefined);
  }

  /**
   * Settles when this (closing) mirror has let go, so that a new session may deliver the same
   * outboxes: its sockets closed (or HANDOVER_MAX_WAIT_MS passed: a secondary ignoring our close
   * frame must not stall the mirror), and then — always, however long the store takes — every
   * store write it made: a new session that read before an older append was committed would
   * deliver newer messages first.
   */
  handedOver(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, HANDOVER_MAX_WAIT_MS).unref();
    });
    return Promise.race([this.socketsClosed, deadline])
      .finally(() => clearTimeout(timer))
      .then(() => Promise.all(this.#links.map((link) => link.writesSettled())))
      .then(() => undefined);
  }

  /** Settles when every secondary socket of this (closing) mirror is gone; store writes may still be pending. */
  get socketsClosed(): Promise<void> {
    return Promise.all(this.#links.map((link) => link.socketClosed)).then(() => undefined);
  }

  /**
   * The routing table's facts about a frame from the charger, and the message id they concern: the
   * head's, or for a malformed frame the id a lenient parse still finds — read only while a proxy
   * CALL is outstanding or remembered, so most traffic never pays for it.
   */
  chargerFacts(kind: FrameKind, head: FrameHead | undefined, data: Buffer): { readonly facts: RouteFacts; readonly id: string | undefined } {
    let id: string | undefined;
    if (head !== undefined && (kind === 'callresult' || kind === 'callerror')) id = head.id;
    else if (kind === 'invalid' && this.#gate.hasProxyCalls()) id = answerIdOfMalformed(data);
    if (id === undefined) return NOTHING_TO_PLACE;
    return {
      facts: { ...MIRRORING_FACTS, answersProxyCall: this.#gate.isInFlight(id), answersExpiredProxyCall: this.#gate.isExpired(id) },
      id,
    };
  }

  /**
   * Carries out one routing action (never 'forward': the session does that first). `id` is the
   * message id `chargerFacts` read for a malformed frame. Never throws.
   */
  carryOut(action: RouteAction, head: FrameHead | undefined, data: Buffer, id: string | undefined = head?.id): void {
    if (id === undefined) return;
    this.#contain(`carrying out ${action.kind}`, () => this.#carryOut(action, head, id, data), undefined);
  }

  #carryOut(action: RouteAction, head: FrameHead | undefined, id: string, data: Buffer): void {
    switch (action.kind) {
      case 'mirror-call':
        if (head !== undefined) this.#mirror(head, data, 'call');
        return;
      case 'mirror-send':
        if (head !== undefined) this.#mirror(head, data, 'send');
        return;
      case 'hold-gate':
        this.#gate.primaryCallSent(id);
        return;
      case 'release-gate':
        this.#gate.chargerAnswered(id);
        return;
      case 'answer-secondary-command':
        this.#gate.deliverAnswer(id, data);
        return;
      case 'learn-primary-answer':
        if (head !== undefined) this.#learnFromPrimary(head, data);
        return;
      case 'discard':
        this.#gate.forgetExpired(id);
        this.#o.counters.lateChargerAnswers += 1;
        this.#o.log.debug({ id }, 'charger answered a secondary command after its timeout: dropped');
        return;
      default:
        this.#o.log.error({ action: action.kind }, 'routing action not handled for a charger or primary frame');
    }
  }

  /** The charger session ended: fail pending commands, stop every link, let go of the lease; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#resolveClosing();
    this.#gate.close();
    for (const link of this.#links) link.close();
    void this.closed.then(() => this.#o.lease.release());
  }

  terminate(): void {
    this.close();
    for (const link of this.#links) link.terminate();
  }

  /** Settles when every secondary socket has closed and then every store write is done. */
  get closed(): Promise<void> {
    return Promise.all(this.#links.map((link) => link.closed)).then(() => undefined);
  }

  #contain<T>(what: string, work: () => T, fallback: T): T {
    return contain(this.#o.log, this.#o.counters, what, work, fallback);
  }

  #learnFromPrimary(head: FrameHead, data: Buffer): void {
    if (this.#pendingStarts.size === 0) return;
    const startRef = this.#pendingStarts.get(head.id);
    if (startRef === undefined) return;
    this.#pendingStarts.delete(head.id);
    if (head.type !== MessageType.CallResult) return;
    const parsed = parseFrame(data);
    if (!parsed.ok || parsed.frame.type !== MessageType.CallResult) return;
    const primaryTxId = primaryTransactionIdFromStartResult(parsed.frame.payload);
    if (primaryTxId === undefined) return;
    for (const link of this.#links) link.primaryAnsweredStart(startRef, primaryTxId);
  }

  #mirror(head: FrameHead, data: Buffer, kind: 'call' | 'send'): void {
    const action = head.action ?? '';
    const frame = data.toString('utf8');
    let info = UNCLASSIFIED;
    // Only transaction messages are ever parsed here; everything else is mirrored as raw bytes.
    if (kind === 'call' && needsClassification(action, frame)) {
      const parsed = parseFrame(frame);
      if (parsed.ok && parsed.frame.type === MessageType.Call) info = classifyChargerCall(this.#o.version, parsed.frame);
    }
    if (kind === 'call' && isBootNotification(action)) {
      this.#o.store.saveLastBoot(this.#o.chargerId, frame).catch((error: unknown) => {
        this.#o.log.warn({ err: error }, 'last BootNotification could not be stored');
      });
    }

    let startRef: string | null = null;
    let txRef: string | null = null;
    if (info.role === 'start') {
      if (this.#o.version === '1.6') {
        startRef = startReference(this.#o.chargerId, frame);
        this.#rememberStart(head.id, startRef);
      } else {
        startRef = info.txId;
      }
    } else if (info.role === 'stop' || info.role === 'update') {
      txRef = info.txId;
    }
    const message: MirroredMessage = { frame, bytes: data.length, id: head.id, action, kind, priority: info.priority, role: info.role, startRef, txRef, enqueuedAt: Date.now() };
    // One link failing must not cost the others their copy.
    for (const link of this.#links) this.#contain('storing a mirrored message', () => link.enqueue(message), undefined);
  }

  #rememberStart(messageId: string, startRef: string): void {
    if (this.#pendingStarts.size >= MAX_PENDING_STARTS) {
      const oldest = this.#pendingStarts.keys().next().value;
      if (oldest !== undefined) this.#pendingStarts.delete(oldest);
    }
    this.#pendingStarts.set(messageId, startRef);
  }
}

/**
 * 1.6: the proxy's reference for a transaction start, from the start's content (not its message
 * id): a StartTransaction the charger resends, under the same id or a new one, is the same
 * transaction to every secondary, and keeps one link.
 */
export function startReference(chargerId: string, frame: string): string {
  const head = scanFrameHeadWithBody(frame);
  const payload = head === undefined ? frame : frame.slice(head.bodyStart);
  return createHash('sha256').update(chargerId).update('\0').update(payload).digest('hex').slice(0, 32);
}
