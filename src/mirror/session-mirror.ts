import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.js';
import type { SecondaryConfig } from '../config/schema.js';
import type { Keepalive } from '../links/keepalive.js';
import type { OcppVersion } from '../ocpp/error-codes.js';
import { MessageType, parseFrame } from '../ocpp/frame.js';
import { scanFrameHead, type FrameHead } from '../ocpp/scan.js';
import {
  classifyChargerCall,
  isBootNotification,
  needsClassification,
  primaryTransactionIdFromStartResult,
  type ChargerCallInfo,
} from '../routing/transactions.js';
import { secondaryStoreKey } from '../store/sqlite-store.js';
import type { MirrorStore } from '../store/store.js';
import { CallGate } from './call-gate.js';
import type { MirrorCounters } from './counters.js';
import { contain } from './contain.js';
import { SecondaryLink, type MirrorTiming } from './secondary-link.js';

export interface SessionMirrorOptions {
  readonly chargerId: string;
  readonly rawSegment: string;
  readonly subprotocol: string;
  readonly version: OcppVersion;
  readonly chargerAuthorization: string | undefined;
  readonly secondaries: readonly SecondaryConfig[];
  readonly store: MirrorStore;
  readonly keepalive: Keepalive;
  readonly log: Logger;
  readonly counters: MirrorCounters;
  readonly timing: MirrorTiming;
  /** Sends a proxy-originated frame to the charger; false when the charger is gone. */
  readonly sendToCharger: (text: string) => boolean;
}

/**
 * How long a new session waits for the session it replaces to let go of the
 * secondaries (its sockets closed, an in-flight answer recorded) before loading
 * the same backlogs: long enough for a close handshake, short enough that a
 * secondary ignoring our close frame cannot stall the mirror.
 */
export const HANDOVER_MAX_WAIT_MS = 2_000;

/** Primary StartTransaction answers still awaited: a bound, since a primary may never answer. */
const MAX_PENDING_STARTS = 64;

const UNCLASSIFIED: ChargerCallInfo = { priority: 'droppable', role: 'none', txId: null, carriesIdTag: false };

/**
 * Everything one charger session does for its secondaries: mirrors each charger
 * CALL to every secondary link, watches the primary's traffic for what the
 * mirror must learn (its outstanding CALL, its transaction ids), and routes the
 * charger's answers to secondaries' commands through the call gate.
 */
export class SessionMirror {
  readonly #o: SessionMirrorOptions;
  readonly #gate: CallGate;
  readonly #links: SecondaryLink[];
  /** 1.6: charger StartTransaction message id → the startRef its mirrors carry. */
  readonly #pendingStarts = new Map<string, string>();

  constructor(options: SessionMirrorOptions) {
    this.#o = options;
    this.#gate = new CallGate(options.sendToCharger, options.timing.answerTimeoutMs);
    this.#links = options.secondaries.map(
      (secondary) =>
        new SecondaryLink({
          chargerId: options.chargerId,
          rawSegment: options.rawSegment,
          subprotocol: options.subprotocol,
          version: options.version,
          chargerAuthorization: options.chargerAuthorization,
          secondary,
          secondaryKey: secondaryStoreKey(secondary),
          store: options.store,
          gate: this.#gate,
          keepalive: options.keepalive,
          log: options.log,
          counters: options.counters,
          timing: options.timing,
        }),
    );
  }

  /** Starts every link; after `previous` (the mirror of a replaced session) has let go, if given. */
  start(previous?: SessionMirror): void {
    const after = previous === undefined ? Promise.resolve() : previous.handedOver();
    for (const link of this.#links) contain(this.#o.log, this.#o.counters, 'starting a secondary link', () => link.start(after), undefined);
  }

  /** Settles when this (closing) mirror's links are closed, or after HANDOVER_MAX_WAIT_MS at most. */
  handedOver(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, HANDOVER_MAX_WAIT_MS).unref();
    });
    return Promise.race([this.closed, deadline]).finally(() => clearTimeout(timer));
  }

  /**
   * Sees a frame from the charger before it goes to the primary. Returns true
   * when the frame answers a secondary's command: it was delivered to that
   * secondary and must not reach the primary.
   */
  fromCharger(data: Buffer, isBinary: boolean): boolean {
    return contain(this.#o.log, this.#o.counters, 'mirroring a charger frame', () => this.#fromCharger(data, isBinary), false);
  }

  /** Sees a frame from the primary before it goes to the charger. */
  fromPrimary(data: Buffer, isBinary: boolean): void {
    contain(this.#o.log, this.#o.counters, 'observing a primary frame', () => this.#fromPrimary(data, isBinary), undefined);
  }

  #fromCharger(data: Buffer, isBinary: boolean): boolean {
    if (isBinary) return false;
    const head = scanFrameHead(data);
    if (head === undefined) return false;
    if (head.type === MessageType.Call) {
      this.#mirror(head, data);
      return false;
    }
    if (head.type === MessageType.CallResult || head.type === MessageType.CallError) {
      return this.#gate.chargerAnswered(head.id, data);
    }
    return false;
  }

  #fromPrimary(data: Buffer, isBinary: boolean): void {
    if (isBinary) return;
    const head = scanFrameHead(data);
    if (head === undefined) return;
    if (head.type === MessageType.Call) {
      this.#gate.primaryCallSent(head.id);
      return;
    }
    if (this.#pendingStarts.size === 0) return;
    const startRef = this.#pendingStarts.get(head.id);
    if (startRef === undefined) return;
    this.#pendingStarts.delete(head.id);
    if (head.type !== MessageType.CallResult) return;
    const parsed = parseFrame(data);
    if (!parsed.ok || parsed.frame.type !== MessageType.CallResult) return;
    const primaryTxId = primaryTransactionIdFromStartResult(parsed.frame.payload);
    if (primaryTxId !== undefined) this.#o.store.setPrimaryTransactionId(this.#o.chargerId, startRef, primaryTxId);
  }

  /** The charger session ended: fail pending commands, stop every link; idempotent. */
  close(): void {
    this.#gate.close();
    for (const link of this.#links) link.close();
  }

  terminate(): void {
    this.#gate.close();
    for (const link of this.#links) link.terminate();
  }

  /** Settles when every secondary socket has closed. */
  get closed(): Promise<void> {
    return Promise.all(this.#links.map((link) => link.closed)).then(() => undefined);
  }

  #mirror(head: FrameHead, data: Buffer): void {
    const action = head.action ?? '';
    const frame = data.toString('utf8');
    let info = UNCLASSIFIED;
    // Only transaction messages are ever parsed here; everything else is mirrored as raw bytes.
    if (needsClassification(action, frame)) {
      const parsed = parseFrame(frame);
      if (parsed.ok && parsed.frame.type === MessageType.Call) info = classifyChargerCall(this.#o.version, parsed.frame);
    }
    if (isBootNotification(action)) this.#o.store.saveLastBoot(this.#o.chargerId, frame);

    let startRef: string | null = null;
    let txRef: string | null = null;
    if (info.role === 'start') {
      if (this.#o.version === '1.6') {
        startRef = randomUUID();
        this.#rememberStart(head.id, startRef);
      } else {
        startRef = info.txId;
      }
    } else if (info.role === 'stop' || info.role === 'update') {
      txRef = info.txId;
    }
    const call = { frame, id: head.id, action, priority: info.priority, role: info.role, startRef, txRef };
    // One link failing (its store writes, say) must not cost the others their copy.
    for (const link of this.#links) contain(this.#o.log, this.#o.counters, 'queueing a mirrored call', () => link.enqueue(call), undefined);
  }

  #rememberStart(messageId: string, startRef: string): void {
    if (this.#pendingStarts.size >= MAX_PENDING_STARTS) {
      const oldest = this.#pendingStarts.keys().next().value;
      if (oldest !== undefined) this.#pendingStarts.delete(oldest);
    }
    this.#pendingStarts.set(messageId, startRef);
  }
}
