/**
 * One charger's mirror to one secondary CSMS, wired from parts that each do one
 * job (the way `ws` builds a connection from a Receiver and a Sender):
 * - `UpstreamLink` dials and keeps the socket, with backoff (links/upstream-link.ts);
 * - `Outbox` stores the charger's messages for this secondary and pages them back (outbox.ts);
 * - `Delivery` sends them one at a time, in order, with resends and skips (delivery.ts);
 * - `TransactionBook` keeps this secondary's transaction ids and remote starts (transaction-book.ts);
 * - `SecondaryCommands` handles the secondary's own CALLs (secondary-commands.ts);
 * - where the secondary's frames go is the routing table's decision (routing/route-frame.ts);
 * - the URL and credentials are a pure function of the config (secondary-target.ts).
 * Nothing here can delay or disturb the charger or the primary.
 */
import { channels, type DropReason, type LinkStateName } from '../diagnostics/channels.js';
import { kindIndexOf, SOURCE_BASE, type FrameCounts } from '../diagnostics/frame-counts.js';
import type { Logger } from '../logging/logger.js';
import type { SecondaryConfig } from '../config/schema.js';
import type { Keepalive } from '../links/keepalive.js';
import { UpstreamLink, type UpstreamTiming } from '../links/upstream-link.js';
import type { OcppVersion } from '../ocpp/error-codes.js';
import { parseFrame, MessageType } from '../ocpp/frame.js';
import { actionKinds, classifyFrame, routeFrame, NO_FACTS } from '../routing/route-frame.js';
import type { MirrorStore, NewOutboxRecord, OutboxLimits, OutboxRecord } from '../store/store.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';
import { redactUrl } from '../util/redact-url.js';
import type { CallGate } from './call-gate.js';
import type { MirrorCounters } from './counters.js';
import { contain } from './contain.js';
import { Delivery } from './delivery.js';
import type { LeaseHandle } from './lease-keeper.js';
import type { MemoryBudget } from './memory-budget.js';
import { Outbox } from './outbox.js';
import { SecondaryCommands } from './secondary-commands.js';
import { secondaryTarget } from './secondary-target.js';
import { TransactionBook } from './transaction-book.js';

export interface MirrorTiming extends UpstreamTiming {
  readonly answerTimeoutMs: number;
  readonly maxAttempts: number;
  readonly queueLimit: number;
  readonly queueMaxBytes: number;
  /** While a secondary stays unreachable, at most one reminder (with its backlog) per this many ms; default 5 minutes. */
  readonly unreachableReminderMs?: number;
}

export interface SecondaryLinkOptions {
  readonly chargerId: string;
  /** The charger's identity as a URL path segment, canonically percent-encoded (see `extractIdentity`). */
  readonly urlSegment: string;
  /** Offered to the secondary: the version the charger and primary agreed on. */
  readonly subprotocol: string;
  readonly version: OcppVersion;
  readonly chargerAuthorization: string | undefined;
  readonly secondary: SecondaryConfig;
  /** The secondary's TLS options (`ca_file`, `cert_file`, `key_file`, `reject_unauthorized`), read at start. */
  readonly tls?: UpstreamTls;
  readonly secondaryKey: string;
  readonly store: MirrorStore;
  readonly budget: MemoryBudget;
  readonly gate: CallGate;
  readonly lease: LeaseHandle;
  readonly keepalive: Keepalive;
  readonly log: Logger;
  readonly counters: MirrorCounters;
  readonly timing: MirrorTiming;
  /** Starts paused (the operator paused this secondary before the charger connected). */
  readonly paused?: boolean;
  /** The session's frame counters: this secondary's frames are counted in its 'secondary' block. */
  readonly frameCounts?: FrameCounts;
}

/** The secondary's name in logs, metrics and the admin API: its `name`, else its redacted URL. */
export function secondaryLabel(secondary: SecondaryConfig): string {
  return secondary.name ?? redactUrl(secondary.url);
}

/** What the session hands every link for each charger CALL or SEND (scanned and classified once for all). */
export interface MirroredMessage {
  readonly frame: string;
  /** The frame's UTF-8 length (the received buffer's). */
  readonly bytes: number;
  readonly id: string;
  readonly action: string;
  readonly kind: NewOutboxRecord['kind'];
  readonly priority: NewOutboxRecord['priority'];
  /** 'start' messages may bind a pending remote start. */
  readonly role: 'start' | 'stop' | 'update' | 'none';
  readonly startRef: string | null;
  readonly txRef: string | null;
  /** Epoch ms when the charger's frame arrived (one clock read for every link). */
  readonly enqueuedAt: number;
}

const SKIPPED = 'secondary never answered: message skipped';
const UNREACHABLE_REMINDER_MS = 5 * 60_000;
const MIRRORING = { ...NO_FACTS, mirroring: true };
const ANSWERS_DELIVERY = { ...MIRRORING, answersDelivery: true };
const LOOKS_LIKE_CALL = { ...MIRRORING, looksLikeCall: true };

export class SecondaryLink {
  readonly label: string;
  readonly #o: SecondaryLinkOptions;
  readonly #log: Logger;
  readonly #upstream: UpstreamLink;
  readonly #outbox: Outbox;
  readonly #delivery: Delivery;
  readonly #book: TransactionBook;
  readonly #commands: SecondaryCommands;
  readonly #limits: OutboxLimits;
  #started = false;
  #closed = false;
  /** Set by the operator (admin API): messages are still stored, nothing is dialled or delivered. */
  #paused: boolean;
  /** The session this one replaced has let go: this link may dial. */
  #ready = false;
  /** When the last failure was logged at warn: the first one, then a reminder at most every unreachableReminderMs. */
  #warnedAt = 0;

  constructor(options: SecondaryLinkOptions) {
    this.#o = options;
    const { secondary, chargerId } = options;
    this.label = secondaryLabel(secondary);
    this.#paused = options.paused ?? false;
    this.#log = options.log.child({ secondary: this.label });
    const target = secondaryTarget(secondary, chargerId, options.urlSegment, options.chargerAuthorization);
    this.#limits = { maxMessages: options.timing.queueLimit, maxBytes: options.timing.queueMaxBytes };
    const stream = { chargerId, secondaryKey: options.secondaryKey };
    this.#book = new TransactionBook({
      chargerId,
      secondaryKey: options.secondaryKey,
      version: options.version,
      store: options.store,
      fence: () => options.lease.fence(),
      idTagOverride: target.idTagOverride,
      log: this.#log,
    });
    this.#outbox = new Outbox({
      stream,
      store: options.store,
      limits: this.#limits,
      budget: options.budget,
      log: this.#log,
      events: {
        onDropped: (entry, reason) => this.#dropped(entry, reason),
        onAvailable: () => this.#delivery.wake(),
        onAppended: (record) => this.#publishOutbox(channels.outboxAppended, record),
      },
    });
    this.#delivery = new Delivery({
      chargerId,
      version: options.version,
      store: options.store,
      outbox: this.#outbox,
      book: this.#book,
      lease: options.lease,
      timing: options.timing,
      log: this.#log,
      events: {
        onGivenUp: (record, reason, attempts) => this.#givenUp(record, reason, attempts),
        onDelivered: (record) => this.#publishOutbox(channels.outboxAcked, record),
        // The lease keeper logs it and asks for the lease again; delivery resumes once it holds it.
        onLeaseLost: () => undefined,
        onLinkFailure: () => this.#upstream.countFailure(),
      },
    });
    this.#commands = new SecondaryCommands({
      chargerId,
      secondaryLabel: this.label,
      version: options.version,
      gate: options.gate,
      book: this.#book,
      answerTimeoutMs: options.timing.answerTimeoutMs,
      log: this.#log,
      leg: () => this.#upstream.leg,
    });
    this.#upstream = new UpstreamLink(
      {
        url: target.url,
        subprotocols: options.subprotocol === '' ? [] : [options.subprotocol],
        headers: target.headers,
        tap: { chargerId, leg: 'secondary', secondary: this.label },
        tls: options.tls,
      },
      options.timing,
      options.keepalive,
      {
        onOpen: (leg, protocol) => {
          options.counters.secondaryConnects += 1;
          this.#state('open');
          this.#log.info({ url: redactUrl(target.url), protocol }, 'secondary connected');
          this.#delivery.attach(leg);
        },
        // Whatever a secondary sends, a failure handling it ends here (contained), never in the event loop.
        onFrame: (data, isBinary) => contain(this.#log, options.counters, 'handling a secondary frame', () => this.#onFrame(data, isBinary), undefined),
        onDisconnect: () => {
          options.counters.secondaryDisconnects += 1;
          this.#delivery.detach();
        },
        onWaiting: (why, detail, retryInMs, failures) => {
          this.#state('waiting', why);
          // The first failure is news; the hundredth of a secondary that is down for hours is not,
          // but that it is still down, with how much waits for it, is worth a line now and then.
          const now = Date.now();
          const fields = { ...detail, url: redactUrl(target.url), retry_in_ms: retryInMs };
          if (failures === 1) this.#warnedAt = now;
          this.#log[failures === 1 ? 'warn' : 'debug'](fields, why);
          if (failures > 1 && now - this.#warnedAt >= (options.timing.unreachableReminderMs ?? UNREACHABLE_REMINDER_MS)) {
            this.#warnedAt = now;
            this.#remindUnreachable({ ...fields, failures });
          }
        },
        onError: (error) => this.#log.warn({ code: error.code, error: error.message }, 'secondary websocket error'),
      },
    );
  }

  /**
   * Connects and delivers once `after` settles (a session this one replaces has let
   * go of the same outbox). Messages are stored from the start, whatever happens.
   */
  start(after: Promise<void> = Promise.resolve()): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    void after.then(() => {
      if (this.#closed) return;
      this.#ready = true;
      this.#reportBacklog();
      if (this.#paused) {
        this.#state('paused');
        return;
      }
      this.#state('connecting');
      this.#upstream.start();
    });
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** The operator paused this secondary: the socket closes, messages keep being stored for later. */
  pause(): void {
    if (this.#closed || this.#paused) return;
    this.#paused = true;
    // Before it may dial (a replaced session still letting go) nothing was dialled: start() sees the flag.
    if (this.#ready) this.#upstream.pause();
    this.#state('paused');
    this.#log.info('secondary paused by the operator: messages are kept until it is resumed');
  }

  /** Dials again and delivers what was stored meanwhile. */
  resume(): void {
    if (this.#closed || !this.#paused) return;
    this.#paused = false;
    this.#log.info('secondary resumed by the operator');
    // Not yet allowed to dial (a replaced session is still letting go): start() dials when it may.
    if (!this.#ready) return;
    this.#state('connecting');
    // Paused before the link ever dialled: start it now; otherwise dial again.
    this.#upstream.resume();
    this.#upstream.start();
  }

  /** Stores a charger message for this secondary; it goes when its turn comes. */
  enqueue(message: MirroredMessage): void {
    if (this.#closed) return;
    if (message.role === 'start' && message.startRef !== null) void this.#book.bindStart(message.startRef);
    this.#outbox.append({
      frame: message.frame,
      messageId: message.id,
      action: message.action,
      kind: message.kind,
      priority: message.priority,
      startRef: message.startRef,
      txRef: message.txRef,
      enqueuedAt: message.enqueuedAt,
    }, message.bytes);
  }

  /** 1.6: the primary answered a start this link mirrored. */
  primaryAnsweredStart(startRef: string, primaryTxId: string): void {
    void this.#book.primaryAnswered(startRef, primaryTxId);
  }

  /** Stops for good: the charger session ended. The outbox stays in the store for the next session. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#delivery.close();
    this.#upstream.close();
    this.#state('closed', 'session ended');
  }

  /** Drops the socket at once (shutdown deadline); the link is closed afterwards. */
  terminate(): void {
    this.close();
    this.#upstream.terminate();
  }

  /** Settles when this closed link's socket is gone (an answer that crossed our close frame handled). */
  get socketClosed(): Promise<void> {
    return this.#upstream.closed;
  }

  /** Settles when every store write this link started so far is committed or has failed. */
  writesSettled(): Promise<void> {
    return Promise.all([this.#outbox.settled(), this.#book.settled()]).then(() => undefined);
  }

  /**
   * Settles when this closed link has let go entirely: its socket gone, and then every store
   * write it started done (an answer that crossed our close frame acks its entry only then).
   */
  get closed(): Promise<void> {
    return this.socketClosed
      .then(() => this.writesSettled())
      .then(() => this.#outbox.close());
  }

  #onFrame(data: Buffer, isBinary: boolean): void {
    const counts = this.#o.frameCounts;
    if (counts !== undefined) {
      const index = SOURCE_BASE.secondary + kindIndexOf(data, isBinary);
      counts[index] = (counts[index] ?? 0) + 1;
    }
    const { kind, head } = classifyFrame(data, isBinary);
    const id = head?.id ?? '';
    const looksLikeCall = kind === 'invalid' && !isBinary && looksLikeMalformedCall(data);
    const answersDelivery = (kind === 'callresult' || kind === 'callerror') && this.#delivery.isInFlight(id);
    const facts = answersDelivery ? ANSWERS_DELIVERY : looksLikeCall ? LOOKS_LIKE_CALL : MIRRORING;
    const actions = routeFrame('secondary', kind, facts);
    if (channels.frameRouted.hasSubscribers) {
      channels.frameRouted.publish({
        chargerId: this.#o.chargerId,
        source: 'secondary',
        secondary: this.label,
        type: kind,
        action: head?.action,
        bytes: data.length,
        actions: actionKinds(actions),
      });
    }
    for (const action of actions) {
      switch (action.kind) {
        case 'ack-delivery':
          if (head !== undefined) this.#delivery.answered(head.id, head.type, data);
          break;
        case 'secondary-command':
          this.#commands.handle(data);
          break;
        case 'refuse-malformed-call':
          this.#commands.refuseMalformed(data);
          break;
        case 'discard':
          if (action.reason === 'secondary-invalid') {
            this.#o.counters.secondaryInvalidFrames += 1;
            this.#log.warn({ binary: isBinary, bytes: data.length }, 'secondary sent an invalid frame: ignored');
          } else if (action.reason === 'secondary-stray-answer') {
            this.#log.debug({ id }, 'secondary answered a message not in flight: ignored');
          } else {
            this.#o.counters.secondaryDiscardedFrames += 1;
            this.#log.warn({ type: kind, action: head?.action }, 'secondary sent a frame the charger must not receive: dropped');
          }
          break;
        default:
          // The table sends nothing else from a secondary; a new action must be handled here first.
          this.#log.error({ action: action.kind }, 'routing action not handled for a secondary frame');
      }
    }
  }

  /** A secondary that stays unreachable: says so again, with its backlog and how old its oldest message is. */
  #remindUnreachable(fields: Readonly<Record<string, unknown>>): void {
    this.#o.store.stats({ chargerId: this.#o.chargerId, secondaryKey: this.#o.secondaryKey }).then(
      (stats) => {
        const oldestAgeS = stats.oldestEnqueuedAt === null ? null : Math.round((Date.now() - stats.oldestEnqueuedAt) / 1000);
        this.#log.warn({ ...fields, backlog: stats.messages, backlog_bytes: stats.bytes, oldest_age_s: oldestAgeS }, 'secondary still unreachable');
      },
      (error: unknown) => this.#log.warn({ ...fields, err: error }, 'secondary still unreachable (backlog size unknown: the store cannot be read)'),
    );
  }

  /** Says how much an earlier session (or process) left for this secondary. */
  #reportBacklog(): void {
    this.#o.store.stats({ chargerId: this.#o.chargerId, secondaryKey: this.#o.secondaryKey }).then(
      (stats) => {
        channels.outboxBacklog.publish({ chargerId: this.#o.chargerId, secondary: this.label, ...stats });
        if (stats.messages > 0) this.#log.info({ backlog: stats.messages, bytes: stats.bytes }, 'secondary backlog waiting');
      },
      (error: unknown) => this.#log.debug({ err: error }, 'secondary backlog size unknown: the store cannot be read yet'),
    );
  }

  #dropped(entry: { seq: number; action: string; priority: string; bytes: number }, reason: DropReason): void {
    if (reason === 'queue-full' && entry.seq === 0) {
      // The store refuses an entry that alone exceeds the byte limit: it was never in the outbox.
      this.#o.counters.mirrorDropped += 1;
      this.#log.warn(
        { action: entry.action, bytes: entry.bytes, max_bytes: this.#limits.maxBytes },
        'message larger than secondary_queue_max_bytes: not kept for this secondary',
      );
    } else if (reason === 'queue-full') {
      this.#o.counters.mirrorDropped += 1;
      this.#log.warn(
        { action: entry.action, priority: entry.priority, limit: this.#limits.maxMessages, max_bytes: this.#limits.maxBytes },
        'secondary outbox full: oldest message dropped',
      );
    } else {
      this.#o.counters.mirrorLost += 1;
    }
    channels.outboxDropped.publish({ chargerId: this.#o.chargerId, secondary: this.label, seq: entry.seq, action: entry.action, bytes: entry.bytes, reason });
  }

  #givenUp(record: OutboxRecord, reason: 'max-attempts' | 'unsendable', attempts: number): void {
    if (reason === 'max-attempts') {
      this.#o.counters.mirrorSkipped += 1;
      this.#log.warn({ action: record.action, attempts }, SKIPPED);
    } else {
      this.#o.counters.mirrorUnsendable += 1;
      this.#log.warn({ action: record.action }, 'message cannot be prepared for this secondary: skipped');
    }
    channels.outboxDropped.publish({ chargerId: this.#o.chargerId, secondary: this.label, seq: record.seq, action: record.action, bytes: record.bytes, reason });
  }

  #publishOutbox(channel: typeof channels.outboxAcked, record: OutboxRecord): void {
    if (!channel.hasSubscribers) return;
    channel.publish({ chargerId: this.#o.chargerId, secondary: this.label, seq: record.seq, action: record.action, bytes: record.bytes });
  }

  #state(state: LinkStateName, reason?: string): void {
    channels.linkState.publish({ chargerId: this.#o.chargerId, secondary: this.label, state, reason });
  }
}

/** A malformed frame that still reads as a CALL with an id: worth a CALLERROR rather than silence. */
function looksLikeMalformedCall(data: Buffer): boolean {
  const parsed = parseFrame(data);
  return !parsed.ok && parsed.error.messageType === MessageType.Call;
}
