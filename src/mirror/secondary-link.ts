import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.js';
import { buildUpstreamUrl } from '../admission/upstream-url.js';
import type { SecondaryConfig } from '../config/schema.js';
import { CloseCode } from '../links/close-codes.js';
import { dial } from '../links/dial.js';
import type { Keepalive } from '../links/keepalive.js';
import { Leg, type LegHandlers } from '../links/leg.js';
import { errorCodeFor, type OcppVersion } from '../ocpp/error-codes.js';
import { MessageType, parseFrame, serializeFrame, type CallFrame, type Frame } from '../ocpp/frame.js';
import { scanFrameHead } from '../ocpp/scan.js';
import { rewriteForSecondary, type RewriteContext } from '../routing/rewrite.js';
import { decideSecondaryCall } from '../routing/secondary-calls.js';
import { primaryTransactionIdFromStartResult, REWRITE_RELEVANT_ACTIONS } from '../routing/transactions.js';
import type { MirrorStore, OutboxRecord } from '../store/store.js';
import { redactUrl } from '../util/redact-url.js';
import type { CallGate, GateFailure } from './call-gate.js';
import type { MirrorCounters } from './counters.js';
import { backoffDelay } from './backoff.js';
import { contain } from './contain.js';

export interface MirrorTiming {
  readonly connectTimeoutMs: number;
  readonly reconnectDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly answerTimeoutMs: number;
  readonly maxAttempts: number;
  readonly queueLimit: number;
  readonly maxPayload: number;
  readonly perMessageDeflate: boolean;
}

export interface SecondaryLinkOptions {
  readonly chargerId: string;
  /** The charger's identity segment exactly as it arrived. */
  readonly rawSegment: string;
  /** Offered to the secondary: the version the charger and primary agreed on. */
  readonly subprotocol: string;
  readonly version: OcppVersion;
  readonly chargerAuthorization: string | undefined;
  readonly secondary: SecondaryConfig;
  readonly secondaryKey: string;
  readonly store: MirrorStore;
  readonly gate: CallGate;
  readonly keepalive: Keepalive;
  readonly log: Logger;
  readonly counters: MirrorCounters;
  readonly timing: MirrorTiming;
}

/** What the coordinator hands a link for each charger CALL (shared by all links). */
export interface MirroredCall {
  readonly frame: string;
  /** The charger's message id, as scanned once for all links. */
  readonly id: string;
  readonly action: string;
  readonly priority: OutboxRecord['priority'];
  /** 'start' messages may bind a pending remote-start idTag. */
  readonly role: 'start' | 'stop' | 'update' | 'none';
  readonly startRef: string | null;
  readonly txRef: string | null;
}

const LinkState = { Idle: 'idle', Connecting: 'connecting', Open: 'open', Waiting: 'waiting', Closed: 'closed' } as const;
type LinkState = (typeof LinkState)[keyof typeof LinkState];

interface InFlight {
  readonly id: string;
  /** Undefined for the replayed BootNotification, which is not in the outbox. */
  readonly entry: QueuedEntry | undefined;
  readonly timer: NodeJS.Timeout;
}

interface QueuedEntry {
  readonly record: OutboxRecord;
  /** The CALL's message id; undefined for a stored record that is no longer readable as a CALL. */
  readonly id: string | undefined;
  attempts: number;
  /** False while only in memory: queued before the durable backlog could be loaded. */
  persisted: boolean;
}

/** Retry delays for loading a backlog from a store that cannot be read (disk full, locked by a sibling). */
const LOAD_RETRY_BASE_MS = 1_000;
const LOAD_RETRY_MAX_MS = 30_000;

/**
 * One charger's mirror to one secondary CSMS: a best-effort upstream link that
 * reconnects with jittered backoff for as long as the charger session lasts, and
 * a durable outbox delivered strictly in order, one CALL in flight at a time.
 * Nothing here can delay or disturb the charger or the primary: every failure
 * ends in this link (logged, counted, retried), never outside it.
 */
export class SecondaryLink {
  readonly label: string;
  readonly #o: SecondaryLinkOptions;
  readonly #log: Logger;
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #queue: QueuedEntry[] = [];
  #nextSeq = 1;
  #state: LinkState = LinkState.Idle;
  #leg: Leg | undefined;
  #inFlight: InFlight | undefined;
  #abortDial: AbortController | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /**
   * Whether the durable backlog is in #queue. Until it is, new messages wait in
   * memory without a store sequence number, and the link does not connect: a
   * secondary must never see new messages before older ones.
   */
  #loaded = false;
  #loadFailures = 0;
  #loadTimer: NodeJS.Timeout | undefined;
  /** Failed attempts since the last successful connection: drives the backoff and how loudly to log. */
  #failures = 0;
  readonly #idTagOverride: string | undefined;

  constructor(options: SecondaryLinkOptions) {
    this.#o = options;
    const { secondary, chargerId } = options;
    this.label = secondary.name ?? redactUrl(secondary.url);
    this.#log = options.log.child({ secondary: this.label });
    const mapping = secondary.charger_map.find((entry) => entry.charger_id === chargerId);
    const segment = mapping?.mapped_charger_id === undefined ? options.rawSegment : encodeURIComponent(mapping.mapped_charger_id);
    this.#url = buildUpstreamUrl(secondary.url, segment, secondary.append_charge_point_id);
    this.#headers = {};
    if (mapping?.password !== undefined) {
      const user = mapping.mapped_charger_id ?? chargerId;
      this.#headers.Authorization = `Basic ${Buffer.from(`${user}:${mapping.password}`).toString('base64')}`;
    } else if (secondary.forward_authorization && options.chargerAuthorization !== undefined) {
      this.#headers.Authorization = options.chargerAuthorization;
    }
    this.#idTagOverride = mapping?.id_tag;
  }

  /**
   * Loads the durable backlog, then connects. `after` delays the load until a
   * session this one replaces has let go of the same backlog (its in-flight
   * answer recorded), so nothing answered there is sent again here.
   */
  start(after: Promise<void> = Promise.resolve()): void {
    if (this.#state !== LinkState.Idle) return;
    void after.then(() => this.#contain('loading the backlog', () => this.#load()));
  }

  #load(): void {
    if (this.#state !== LinkState.Idle || this.#loaded) return;
    let loaded: number;
    try {
      loaded = this.#mergeBacklog();
    } catch (error) {
      const delayMs = backoffDelay(this.#loadFailures, LOAD_RETRY_BASE_MS, LOAD_RETRY_MAX_MS);
      this.#loadFailures += 1;
      this.#log.warn({ err: error, retry_in_ms: delayMs, waiting: this.#queue.length }, 'secondary backlog cannot be read from the store yet; messages wait in memory');
      this.#loadTimer = setTimeout(() => this.#contain('loading the backlog', () => this.#load()), delayMs).unref();
      return;
    }
    if (loaded > 0) this.#log.info({ backlog: loaded }, 'secondary backlog loaded');
    this.#connectContained();
  }

  /**
   * Puts the durable backlog in front of what waited in memory, which then gets
   * its place in the store. Returns how many records were loaded; throws, with
   * nothing changed, when the store cannot be read.
   */
  #mergeBacklog(): number {
    const records = this.#o.store.loadOutbox(this.#o.chargerId, this.#o.secondaryKey);
    const waiting = this.#queue.splice(0);
    for (const record of records) {
      const head = scanFrameHead(record.frame);
      this.#queue.push({ record, id: head?.type === MessageType.Call ? head.id : undefined, attempts: 0, persisted: true });
      this.#nextSeq = record.seq + 1;
    }
    for (const entry of waiting) this.#persist({ ...entry.record, seq: this.#nextSeq++ }, entry.id, entry.attempts);
    while (this.#queue.length > this.#o.timing.queueLimit) this.#dropOne();
    this.#loaded = true;
    return records.length;
  }

  #persist(record: OutboxRecord, id: string | undefined, attempts: number): void {
    this.#queue.push({ record, id, attempts, persisted: true });
    this.#o.store.appendOutbox(this.#o.chargerId, this.#o.secondaryKey, record);
  }

  /** Adds a charger CALL to the outbox (durably) and sends it when its turn comes. */
  enqueue(call: MirroredCall): void {
    if (this.#state === LinkState.Closed) return;
    if (call.role === 'start') {
      // Before the message can be sent; a store that cannot be read (disk full)
      // costs the remote-start binding, never the message itself.
      this.#contain('binding a remote-start idTag', () => this.#bindRemoteStart(call));
    }
    if (this.#queue.length >= this.#o.timing.queueLimit) this.#dropOne();
    const record: OutboxRecord = {
      seq: this.#loaded ? this.#nextSeq++ : 0,
      frame: call.frame,
      action: call.action,
      priority: call.priority,
      startRef: call.startRef,
      txRef: call.txRef,
      enqueuedAt: Date.now(),
    };
    if (this.#loaded) this.#persist(record, call.id, 0);
    else this.#queue.push({ record, id: call.id, attempts: 0, persisted: false });
    this.#pump();
  }

  /** Stops for good: the charger session ended. The outbox stays in the store for the next session. */
  close(): void {
    if (this.#state === LinkState.Closed) return;
    this.#state = LinkState.Closed;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#loadTimer);
    this.#abortDial?.abort();
    // The in-flight CALL stays recorded until the socket is gone: an answer that
    // crosses our close frame still marks it delivered, so it is not sent again.
    if (this.#inFlight !== undefined) clearTimeout(this.#inFlight.timer);
    if (this.#leg === undefined) this.#inFlight = undefined;
    this.#leg?.close(CloseCode.GoingAway, 'charger disconnected');
    if (!this.#loaded && this.#queue.length > 0) {
      // The session ends before the backlog could be loaded: one last try to give
      // what waited in memory its place in the store; what cannot be stored is lost
      // for this secondary, and said so.
      try {
        this.#mergeBacklog();
      } catch (error) {
        this.#o.counters.mirrorDropped += this.#queue.length;
        this.#log.error({ err: error, lost: this.#queue.length }, 'secondary messages could not be stored before the charger left: lost for this secondary');
      }
    }
  }

  /** Drops the socket at once (shutdown deadline); the link is closed afterwards. */
  terminate(): void {
    this.close();
    this.#leg?.terminate();
  }

  /** Settles when the upstream socket (if any) has closed. */
  get closed(): Promise<void> {
    const socket = this.#leg?.socket;
    if (socket === undefined || this.#leg?.closed === true) return Promise.resolve();
    return new Promise((resolve) => socket.once('close', () => resolve()));
  }

  // ── connection ────────────────────────────────────────────────────────────

  /** Connects; a bug in doing so is counted and logged, never thrown into a timer or the caller. */
  #connectContained(): void {
    this.#connect().catch((error: unknown) => {
      this.#o.counters.mirrorFailures += 1;
      this.#log.error({ err: error }, 'secondary connect failed unexpectedly');
    });
  }

  async #connect(): Promise<void> {
    if (this.#state === LinkState.Closed) return;
    this.#state = LinkState.Connecting;
    this.#abortDial = new AbortController();
    const outcome = await dial({
      url: this.#url,
      subprotocols: this.#o.subprotocol === '' ? [] : [this.#o.subprotocol],
      headers: this.#headers,
      timeoutMs: this.#o.timing.connectTimeoutMs,
      maxPayload: this.#o.timing.maxPayload,
      perMessageDeflate: this.#o.timing.perMessageDeflate,
      signal: this.#abortDial.signal,
    });
    this.#abortDial = undefined;
    if (outcome.kind === 'aborted') return;
    if (this.#isClosed()) {
      if (outcome.kind === 'open') outcome.socket.terminate();
      return;
    }
    if (outcome.kind !== 'open') {
      const detail =
        outcome.kind === 'refused' ? { status: outcome.status } : outcome.kind === 'unreachable' ? { error: outcome.error.message } : {};
      this.#scheduleReconnect(`secondary ${outcome.kind}`, detail);
      return;
    }
    this.#leg = new Leg(`secondary:${this.label}`, outcome.socket, this.#handlers, this.#o.keepalive);
    this.#leg.resume();
    this.#state = LinkState.Open;
    this.#failures = 0;
    this.#o.counters.secondaryConnects += 1;
    this.#log.info({ url: redactUrl(this.#url), protocol: outcome.subprotocol, backlog: this.#queue.length }, 'secondary connected');
    this.#contain('starting delivery', () => {
      this.#replayBoot();
      this.#pump();
    });
  }

  #contain(what: string, work: () => void): void {
    contain(this.#log, this.#o.counters, what, work, undefined);
  }

  #isClosed(): boolean {
    return this.#state === LinkState.Closed;
  }

  #scheduleReconnect(why: string, detail: Record<string, unknown>): void {
    if (this.#state === LinkState.Closed) return;
    this.#state = LinkState.Waiting;
    const delayMs = backoffDelay(this.#failures, this.#o.timing.reconnectDelayMs, this.#o.timing.reconnectMaxDelayMs);
    this.#failures += 1;
    // The first failure is news; the hundredth of a secondary that is down for hours is not.
    const level = this.#failures === 1 ? 'warn' : 'debug';
    this.#log[level]({ ...detail, url: redactUrl(this.#url), retry_in_ms: delayMs, backlog: this.#queue.length }, why);
    this.#reconnectTimer = setTimeout(() => this.#connectContained(), delayMs).unref();
  }

  readonly #handlers: LegHandlers = {
    onFrame: (_leg, data, isBinary) => this.#contain('handling a secondary frame', () => this.#onFrame(data, isBinary)),
    onClose: (_leg, code, reason) => {
      this.#leg = undefined;
      if (this.#inFlight !== undefined) clearTimeout(this.#inFlight.timer);
      this.#inFlight = undefined;
      if (this.#state === LinkState.Closed) return;
      this.#o.counters.secondaryDisconnects += 1;
      this.#scheduleReconnect('secondary disconnected', { code, reason });
    },
    onError: (_leg, error) => {
      this.#log.warn({ code: error.code, error: error.message }, 'secondary websocket error');
    },
  };

  // ── delivery ──────────────────────────────────────────────────────────────

  /**
   * CSMSs refuse traffic (SecurityError) until they have seen a BootNotification
   * on the connection, and chargers do not boot again after a reconnect: so a
   * (re)connected secondary first gets the charger's last one, with a fresh id.
   */
  #replayBoot(): void {
    const head = this.#queue[0];
    const boot = this.#o.store.loadLastBoot(this.#o.chargerId);
    if (boot === undefined || head?.record.action === 'BootNotification') return;
    const parsed = parseFrame(boot);
    if (!parsed.ok || parsed.frame.type !== MessageType.Call) return;
    const id = randomUUID();
    this.#send(serializeFrame({ ...parsed.frame, id }), id, undefined);
  }

  #pump(): void {
    if (this.#state !== LinkState.Open || this.#inFlight !== undefined) return;
    const entry = this.#queue[0];
    if (entry === undefined) return;
    // Checked before each send, not only on timeouts: a CALL on which the
    // secondary drops the connection must also give up after maxAttempts sends.
    if (entry.attempts >= this.#o.timing.maxAttempts) {
      this.#finish(entry, 'skipped');
      this.#pump();
      return;
    }
    if (entry.id === undefined) {
      // Unreadable as a CALL (it was stored as one): nothing a secondary could do with it.
      this.#finish(entry, 'skipped');
      this.#pump();
      return;
    }
    entry.attempts += 1;
    this.#send(this.#prepare(entry.record), entry.id, entry);
  }

  #send(text: string, id: string, entry: QueuedEntry | undefined): void {
    if (this.#leg === undefined || !this.#leg.send(text, false)) return;
    const timer = setTimeout(() => this.#contain('an answer timeout', () => this.#answerTimedOut(id)), this.#o.timing.answerTimeoutMs).unref();
    this.#inFlight = { id, entry, timer };
  }

  /** The frame for this secondary: the original bytes, or a rewrite when a rule applies. */
  #prepare(record: OutboxRecord): string {
    const context = this.#rewriteContext(record);
    if (context === undefined) return record.frame;
    const parsed = parseFrame(record.frame);
    if (!parsed.ok || parsed.frame.type !== MessageType.Call) return record.frame;
    const rewritten = rewriteForSecondary(this.#o.version, parsed.frame, context);
    return rewritten.changed ? serializeFrame({ ...parsed.frame, payload: rewritten.payload }) : record.frame;
  }

  /** What this secondary needs changed in `record`, or undefined when the original bytes go as they are. */
  #rewriteContext(record: OutboxRecord): RewriteContext | undefined {
    // Most traffic (Heartbeat, StatusNotification, …) carries nothing a rule rewrites.
    if (!REWRITE_RELEVANT_ACTIONS.has(record.action)) return undefined;
    const ref = record.startRef ?? record.txRef;
    // Only 1.6 updates (MeterValues) need the link, for the secondary's transactionId.
    const needsLink = ref !== null && (record.priority === 'transaction' || this.#o.version === '1.6');
    if (!needsLink) return this.#idTagOverride === undefined ? undefined : { idTagOverride: this.#idTagOverride };
    const { store, chargerId, secondaryKey } = this.#o;
    const link =
      record.startRef !== null
        ? store.findTransactionLinkByStartRef(chargerId, secondaryKey, record.startRef)
        : store.findTransactionLinkByPrimaryId(chargerId, secondaryKey, ref);
    if (record.startRef === null && record.txRef !== null && this.#o.version === '1.6' && link?.secondaryTxId == null) {
      this.#log.warn({ action: record.action, transaction: record.txRef }, 'no transactionId of this secondary is known for this transaction: sent as the primary knows it');
    }
    return {
      idTagOverride: this.#idTagOverride,
      remoteStartIdTag: link?.idTag ?? undefined,
      secondaryTxId: link?.secondaryTxId ?? undefined,
    };
  }

  #answerTimedOut(id: string): void {
    if (this.#inFlight?.id !== id) return;
    const { entry } = this.#inFlight;
    this.#inFlight = undefined;
    this.#log.debug({ action: entry?.record.action ?? 'BootNotification', attempt: entry?.attempts }, 'secondary did not answer in time');
    // The next pump resends it, or skips it once it has had all its attempts.
    this.#pump();
  }

  /** Removes the head entry: answered, or given up on. */
  #finish(entry: QueuedEntry, how: 'answered' | 'skipped'): void {
    if (this.#queue[0] === entry) this.#queue.shift();
    this.#o.store.deleteOutbox(this.#o.chargerId, this.#o.secondaryKey, entry.record.seq);
    if (how === 'skipped') {
      this.#o.counters.mirrorSkipped += 1;
      this.#log.warn({ action: entry.record.action, attempts: entry.attempts }, 'secondary never answered: message skipped');
    }
  }

  #onFrame(data: Buffer, isBinary: boolean): void {
    const head = isBinary ? undefined : scanFrameHead(data);
    if (head?.type === MessageType.CallResult || head?.type === MessageType.CallError) {
      this.#onAnswer(head.id, head.type, data);
      return;
    }
    if (head?.type === MessageType.Call) {
      this.#onSecondaryCall(data);
      return;
    }
    this.#o.counters.secondaryInvalidFrames += 1;
    const parsed = isBinary ? undefined : parseFrame(data);
    this.#log.warn({ binary: isBinary, bytes: data.length, reason: parsed?.ok === false ? parsed.error.reason : 'unreadable' }, 'secondary sent an invalid frame: ignored');
    if (parsed?.ok === false && parsed.error.messageType === MessageType.Call) {
      this.#answer(this.#callError(parsed.error.messageId ?? '-1', 'format-violation', parsed.error.message));
    }
  }

  #onAnswer(id: string, type: number, data: Buffer): void {
    if (this.#inFlight?.id !== id) {
      this.#log.debug({ id }, 'secondary answered a message not in flight: ignored');
      return;
    }
    const { entry, timer } = this.#inFlight;
    clearTimeout(timer);
    this.#inFlight = undefined;
    if (entry !== undefined) {
      this.#finish(entry, 'answered');
      if (type === MessageType.CallResult) this.#contain('learning from an answer', () => this.#learnFromResult(entry.record, data));
      else this.#log.info({ action: entry.record.action }, 'secondary answered with a CALLERROR');
    }
    this.#pump();
  }

  /** Transaction bookkeeping from a secondary's CALLRESULT. */
  #learnFromResult(record: OutboxRecord, data: Buffer): void {
    const { store, chargerId, secondaryKey, version } = this.#o;
    if (record.startRef !== null && version === '1.6') {
      const parsed = parseFrame(data);
      if (!parsed.ok || parsed.frame.type !== MessageType.CallResult) return;
      const secondaryTxId = primaryTransactionIdFromStartResult(parsed.frame.payload);
      if (secondaryTxId !== undefined) store.setSecondaryTransactionId(chargerId, secondaryKey, record.startRef, secondaryTxId);
    } else if (record.startRef === null && record.txRef !== null && record.priority === 'transaction') {
      // The transaction's end reached this secondary: its link is no longer needed.
      const link = store.findTransactionLinkByPrimaryId(chargerId, secondaryKey, record.txRef);
      if (link !== undefined) store.deleteTransactionLink(chargerId, secondaryKey, link.startRef);
    }
  }

  #onSecondaryCall(data: Buffer): void {
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      this.#answer(this.#callError(parsed.error.messageId ?? '-1', 'format-violation', parsed.error.message));
      return;
    }
    if (parsed.frame.type !== MessageType.Call) return;
    const call = parsed.frame;
    const decision = decideSecondaryCall(this.#o.version, call);
    switch (decision.kind) {
      case 'forward-to-charger':
        this.#log.info({ action: call.action }, 'secondary command forwarded to the charger');
        this.#o.gate.submit({
          call,
          deliver: (answer) => this.#answer(answer),
          fail: (reason) => this.#answer(this.#gateFailure(call, reason)),
        });
        return;
      case 'accept-remote-start':
        this.#o.store.savePendingIdTag(this.#o.chargerId, this.#o.secondaryKey, decision.pendingIdTag);
        this.#log.info({ action: call.action }, 'secondary remote start acknowledged locally; its idTag goes into the next transaction start');
        this.#answer(serializeFrame({ type: MessageType.CallResult, id: call.id, payload: decision.response }));
        return;
      case 'reject':
        this.#log.info({ action: call.action }, 'secondary command refused: secondaries may only read the charger');
        this.#answer(serializeFrame({ type: MessageType.CallError, id: call.id, errorCode: decision.errorCode, errorDescription: decision.description, errorDetails: {} }));
        return;
    }
  }

  #gateFailure(call: CallFrame, reason: GateFailure): string {
    const description =
      reason === 'timeout'
        ? `the charger did not answer within ${this.#o.timing.answerTimeoutMs} ms`
        : reason === 'busy'
          ? 'too many commands waiting for the charger'
          : 'the charger is not connected';
    return this.#callError(call.id, 'generic-error', description);
  }

  #callError(id: string, kind: Parameters<typeof errorCodeFor>[1], description: string): string {
    const frame: Frame = { type: MessageType.CallError, id, errorCode: errorCodeFor(this.#o.version, kind), errorDescription: description, errorDetails: {} };
    return serializeFrame(frame);
  }

  /** Sends the secondary an answer to its own CALL; lost if it has gone, like any answer on a dead link. */
  #answer(text: string): void {
    if (this.#leg?.send(text, false) !== true) this.#log.debug('secondary gone before its command was answered');
  }

  #bindRemoteStart(call: MirroredCall): void {
    const { store, chargerId, secondaryKey, version } = this.#o;
    const pending = store.takePendingIdTag(chargerId, secondaryKey);
    const startRef = call.startRef;
    if (startRef === null) return;
    // 1.6 always needs a link (primary id → this secondary's id); 2.x only to carry a remote-start idToken.
    if (version === '1.6' || pending !== undefined) {
      store.putTransactionLink(chargerId, secondaryKey, {
        startRef,
        primaryTxId: version === '1.6' ? null : startRef,
        secondaryTxId: null,
        idTag: pending ?? null,
      });
    }
  }

  #dropOne(): void {
    // Never the head while it is in flight; the oldest droppable first, else the oldest.
    const first = this.#inFlight?.entry === this.#queue[0] && this.#inFlight !== undefined ? 1 : 0;
    let index = this.#queue.findIndex((entry, i) => i >= first && entry.record.priority === 'droppable');
    if (index === -1) index = first;
    const [dropped] = this.#queue.splice(index, 1);
    if (dropped === undefined) return;
    if (dropped.persisted) this.#o.store.deleteOutbox(this.#o.chargerId, this.#o.secondaryKey, dropped.record.seq);
    this.#o.counters.mirrorDropped += 1;
    this.#log.warn(
      { action: dropped.record.action, priority: dropped.record.priority, limit: this.#o.timing.queueLimit },
      'secondary outbox full: oldest message dropped',
    );
  }
}
