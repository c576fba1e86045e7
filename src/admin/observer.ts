/**
 * What the admin listener knows about the running proxy, learnt only from the core's diagnostics
 * channels (src/diagnostics/channels.ts): the core imports nothing of this. Plain numbers and small
 * maps, updated in O(1) per event, so that observing costs the frame path as little as possible;
 * metrics (metrics.ts) and the status API (api.ts) read them when asked.
 */
import { channels, type FrameDataMessage, type LinkStateName } from '../diagnostics/channels.js';
import { COUNTED_KINDS, FRAME_SOURCES, frameCountIndex, LAST_FRAME_AT, newFrameCounts, type FrameCounts } from '../diagnostics/frame-counts.js';
import { classifyFrame, type FrameKind } from '../routing/route-frame.js';

/** Frames kept per charger for `GET /api/chargers/{id}`: enough to see what just happened. */
export const RECENT_FRAMES_PER_CHARGER = 16;
/**
 * A frame longer than this keeps only its head (type, id, action) and size in the recent list; the live stream
 * shows it whole. Bounds what the list holds per charger to 32 KiB, whoever connects and whatever they send.
 */
export const RECENT_FRAME_MAX_BYTES = 2 * 1024;
/**
 * Frames are recorded only for chargers someone looks at (their status is asked for), from then until this long
 * after the last look, and for the live stream while it is open: observing every charger's every frame all the
 * time would cost each frame a copy, and the proxy a list per charger, for pages nobody opens.
 */
export const WATCH_MS = 10 * 60_000;
/** Errors kept per secondary for the status API and the dashboard. */
export const RECENT_ERRORS_PER_SECONDARY = 10;

export interface RecentFrame {
  /** Epoch ms. */
  readonly at: number;
  readonly leg: FrameDataMessage['leg'];
  readonly secondary: string | undefined;
  readonly direction: 'in' | 'out';
  readonly isBinary: boolean;
  readonly bytes: number;
  /** Undefined when the frame was larger than RECENT_FRAME_MAX_BYTES (then `head` says what it was). */
  readonly text: string | undefined;
  readonly head: { readonly kind: FrameKind; readonly type: number | null; readonly id: string | null; readonly action: string | null } | undefined;
}

export interface ChargerView {
  readonly id: string;
  readonly sessionId: number;
  readonly protocol: string;
  readonly remoteAddress: string | undefined;
  /** Epoch ms. */
  readonly connectedAt: number;
  /** The session's live frame counters (LAST_FRAME_AT: when its last frame passed, 0 before). */
  readonly counts: FrameCounts | undefined;
  /** Secondary label → its link's state for this charger. */
  readonly links: Map<string, LinkStateName>;
  /** A ring: `recentNext` is where the next frame goes. */
  readonly recent: (RecentFrame | undefined)[];
  recentNext: number;
}

export interface SecondaryError {
  /** Epoch ms. */
  readonly at: number;
  readonly chargerId: string;
  readonly message: string;
}

export interface SecondaryView {
  /** Action names seen in this secondary's commands (bounded: see commandActionLabel). */
  readonly actions: Set<string>;
  delivered: number;
  readonly dropped: Map<string, number>;
  skipped: number;
  /** `${action}\0${outcome}` → count. */
  readonly commands: Map<string, number>;
  readonly errors: SecondaryError[];
}

/** What observers of the live stream (SSE) receive. */
export type LiveEvent =
  | { readonly kind: 'frame'; readonly frame: FrameDataMessage }
  | { readonly kind: 'session'; readonly type: 'started' | 'ended'; readonly chargerId: string; readonly protocol: string }
  | { readonly kind: 'link'; readonly chargerId: string; readonly secondary: string; readonly state: LinkStateName; readonly reason: string | undefined };

export interface ObserverOptions {
  /** Keep per-charger frame counts (for `metrics_per_charger`). */
  readonly perCharger?: boolean;
}


export class ProxyObserver {
  readonly startedAt = Date.now();
  readonly chargers = new Map<string, ChargerView>();
  readonly secondaries = new Map<string, SecondaryView>();
  /** Frame counters of the sessions that ended (frame-counts.ts layout); the live ones are in #liveCounts. */
  readonly #retiredCounts = newFrameCounts();
  /** Every session not yet ended, replaced ones still closing included, by session id. */
  readonly #liveCounts = new Map<number, { readonly chargerId: string; readonly counts: FrameCounts }>();
  /** Handshake result label → count. */
  readonly handshakes = new Map<string, number>();
  readonly #perCharger: boolean;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #live = new Set<(event: LiveEvent) => void>();
  /** Charger id → performance.now() until which its frames are recorded (see WATCH_MS). */
  readonly #watched = new Map<string, number>();
  /** Set while frames are observed at all (a stream is open, or a charger is watched). */
  #unsubscribeFrames: (() => void) | undefined;
  #closed = false;

  constructor(options: ObserverOptions = {}) {
    this.#perCharger = options.perCharger ?? false;
    // Every known result from the start: `increase()` cannot see the first refusal of a series that did not exist.
    for (const result of Object.values(HANDSHAKE_RESULTS)) this.handshakes.set(result, 0);
    this.handshakes.set('accepted', 0);
    this.#unsubscribe.push(
      channels.sessionStarted.subscribe((message) => {
        if (message.frames !== undefined) this.#liveCounts.set(message.sessionId, { chargerId: message.chargerId, counts: message.frames });
        this.chargers.set(message.chargerId, {
          id: message.chargerId,
          sessionId: message.sessionId,
          protocol: message.protocol,
          remoteAddress: message.remoteAddress,
          connectedAt: Date.now(),
          counts: message.frames,
          links: new Map(),
          recent: new Array<RecentFrame | undefined>(RECENT_FRAMES_PER_CHARGER),
          recentNext: 0,
        });
        this.#emit({ kind: 'session', type: 'started', chargerId: message.chargerId, protocol: message.protocol });
      }),
      channels.sessionEnded.subscribe((message) => {
        // Retired in one step: the totals never go down (Prometheus counters must not).
        const live = this.#liveCounts.get(message.sessionId);
        if (live !== undefined) {
          for (let i = 0; i < LAST_FRAME_AT; i++) this.#retiredCounts[i] = (this.#retiredCounts[i] ?? 0) + (live.counts[i] ?? 0);
          this.#liveCounts.delete(message.sessionId);
        }
        const view = this.chargers.get(message.chargerId);
        // A session replaced by a newer one of the same charger ends after the new one started: keep the new one.
        if (view?.sessionId === message.sessionId) this.chargers.delete(message.chargerId);
        this.#emit({ kind: 'session', type: 'ended', chargerId: message.chargerId, protocol: message.protocol });
      }),
      channels.handshake.subscribe((message) => {
        const result = handshakeResult(message.outcome, message.code);
        this.handshakes.set(result, (this.handshakes.get(result) ?? 0) + 1);
      }),
      channels.linkState.subscribe((message) => {
        const view = this.chargers.get(message.chargerId);
        if (view !== undefined) {
          if (message.state === 'closed') view.links.delete(message.secondary);
          else view.links.set(message.secondary, message.state);
        }
        if (message.state === 'waiting' && message.reason !== undefined) {
          this.#secondaryError(message.secondary, message.chargerId, message.reason);
        }
        this.#emit({ kind: 'link', chargerId: message.chargerId, secondary: message.secondary, state: message.state, reason: message.reason });
      }),
      channels.outboxAcked.subscribe((message) => {
        this.#secondary(message.secondary).delivered += 1;
      }),
      channels.outboxDropped.subscribe((message) => {
        const view = this.#secondary(message.secondary);
        if (message.reason === 'max-attempts') view.skipped += 1;
        else view.dropped.set(message.reason, (view.dropped.get(message.reason) ?? 0) + 1);
        this.#secondaryError(message.secondary, message.chargerId, dropDescription(message.reason, message.action));
      }),
      channels.secondaryCommand.subscribe((message) => {
        const view = this.#secondary(message.secondary);
        const key = `${commandActionLabel(view, message.action)}\0${message.outcome}`;
        const commands = view.commands;
        commands.set(key, (commands.get(key) ?? 0) + 1);
      }),
    );
  }

  /** Frames since start by `${source}\0${kind}`, every pair present (a scrape shows zeros, not gaps). */
  frameTotals(): Map<string, number> {
    const totals = new Map<string, number>();
    for (const source of FRAME_SOURCES) {
      for (const kind of COUNTED_KINDS) {
        const index = frameCountIndex(source, kind);
        let count = this.#retiredCounts[index] ?? 0;
        for (const live of this.#liveCounts.values()) count += live.counts[index] ?? 0;
        totals.set(frameKey(source, kind), count);
      }
    }
    return totals;
  }

  /** Frames per connected charger and source (metrics_per_charger); a charger's series starts again with each session. */
  chargerFrameTotals(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    if (!this.#perCharger) return out;
    for (const { chargerId, counts } of this.#liveCounts.values()) {
      const bySource = out.get(chargerId) ?? new Map<string, number>();
      for (const source of FRAME_SOURCES) {
        let count = bySource.get(source) ?? 0;
        for (const kind of COUNTED_KINDS) count += counts[frameCountIndex(source, kind)] ?? 0;
        bySource.set(source, count);
      }
      out.set(chargerId, bySource);
    }
    return out;
  }

  /** Frames (newest last) recently seen for a charger. */
  recentFrames(chargerId: string): RecentFrame[] {
    const view = this.chargers.get(chargerId);
    if (view === undefined) return [];
    const out: RecentFrame[] = [];
    for (let i = 0; i < RECENT_FRAMES_PER_CHARGER; i++) {
      const frame = view.recent[(view.recentNext + i) % RECENT_FRAMES_PER_CHARGER];
      if (frame !== undefined) out.push(frame);
    }
    return out;
  }

  /** Live events until the returned function is called (the SSE stream). */
  onLive(listener: (event: LiveEvent) => void): () => void {
    this.#live.add(listener);
    this.#observeFrames();
    return () => {
      this.#live.delete(listener);
      this.#observeFrames();
    };
  }

  /** Someone looks at this charger: record its frames from now until WATCH_MS after the last look. */
  watch(chargerId: string): void {
    if (this.#closed) return;
    this.#watched.set(chargerId, performance.now() + WATCH_MS);
    this.#observeFrames();
  }

  /** Whether frames are being observed at all (for tests and the bench). */
  get observingFrames(): boolean {
    return this.#unsubscribeFrames !== undefined;
  }

  /** Subscribes to frame data while a stream is open or a charger is watched; unsubscribes otherwise (zero cost). */
  #observeFrames(): void {
    const now = performance.now();
    for (const [chargerId, until] of this.#watched) if (until <= now) this.#watched.delete(chargerId);
    const wanted = !this.#closed && (this.#live.size > 0 || this.#watched.size > 0);
    if (wanted && this.#unsubscribeFrames === undefined) {
      this.#unsubscribeFrames = channels.frameData.subscribe((message) => this.#recordFrame(message));
    } else if (!wanted && this.#unsubscribeFrames !== undefined) {
      this.#unsubscribeFrames();
      this.#unsubscribeFrames = undefined;
    }
  }


  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.#live.clear();
    this.#watched.clear();
    this.#unsubscribeFrames?.();
    this.#unsubscribeFrames = undefined;
  }

  #recordFrame(message: FrameDataMessage): void {
    const until = this.#watched.get(message.chargerId);
    if (until !== undefined && until <= performance.now()) {
      this.#watched.delete(message.chargerId);
      this.#observeFrames();
    }
    const view = until === undefined || !this.#watched.has(message.chargerId) ? undefined : this.chargers.get(message.chargerId);
    // A frame passed on byte for byte is kept once, as it arrived: its 'out' twin says nothing new, and would
    // double what the list costs per frame (the live stream still shows both).
    if (view !== undefined && !message.forwarded) {
      const { data } = message;
      const bytes = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
      let text: string | undefined;
      let head: RecentFrame['head'];
      if (!message.isBinary && bytes <= RECENT_FRAME_MAX_BYTES) {
        text = typeof data === 'string' ? data : data.toString('utf8');
      } else if (!message.isBinary) {
        // Only the head is scanned: the body of a large frame is neither copied nor kept.
        const classified = classifyFrame(data, false);
        head = { kind: classified.kind, type: classified.head?.type ?? null, id: classified.head?.id ?? null, action: classified.head?.action ?? null };
      }
      view.recent[view.recentNext] = {
        at: message.at,
        leg: message.leg,
        secondary: message.secondary,
        direction: message.direction,
        isBinary: message.isBinary,
        bytes,
        text,
        head,
      };
      view.recentNext = (view.recentNext + 1) % RECENT_FRAMES_PER_CHARGER;
    }
    if (this.#live.size > 0) this.#emit({ kind: 'frame', frame: message });
  }

  #emit(event: LiveEvent): void {
    for (const listener of this.#live) listener(event);
  }

  #secondary(label: string): SecondaryView {
    let view = this.secondaries.get(label);
    if (view === undefined) {
      view = { actions: new Set(), delivered: 0, dropped: new Map(DROP_REASONS.map((reason) => [reason, 0])), skipped: 0, commands: new Map(), errors: [] };
      this.secondaries.set(label, view);
    }
    return view;
  }

  #secondaryError(label: string, chargerId: string, message: string): void {
    const errors = this.#secondary(label).errors;
    errors.push({ at: Date.now(), chargerId, message });
    if (errors.length > RECENT_ERRORS_PER_SECONDARY) errors.shift();
  }
}

/** Reasons a message is dropped for a secondary (max-attempts is counted as skipped). */
export const DROP_REASONS = ['queue-full', 'store-overloaded', 'store-failed', 'unsendable'] as const;
/** Distinct action names per secondary in `secondary_commands_total`; later ones are 'other'. */
export const MAX_COMMAND_ACTIONS = 48;

/**
 * The action label of a secondary's command: the action comes from the secondary's frame, so a misbehaving
 * secondary could otherwise make any number of series (and grow this map without bound).
 */
function commandActionLabel(view: SecondaryView, action: string): string {
  if (view.actions.has(action)) return action;
  if (!/^[A-Za-z0-9]{1,64}$/.test(action) || view.actions.size >= MAX_COMMAND_ACTIONS) return 'other';
  view.actions.add(action);
  return action;
}

export function frameKey(source: string, type: string): string {
  return `${source}\0${type}`;
}

/**
 * The `result` label of `handshakes_total`: 'accepted', or the refusal's error code in words. Codes of
 * refusals added later (charger authentication, limits) get their own label without a change here.
 */
export function handshakeResult(outcome: 'accepted' | 'refused', code: string | undefined): string {
  if (outcome === 'accepted') return 'accepted';
  if (code === undefined) return 'refused';
  return HANDSHAKE_RESULTS[code] ?? code.replace(/^OCPP_SPLITTER_ERR_/, '').toLowerCase();
}

const HANDSHAKE_RESULTS: Readonly<Record<string, string>> = {
  OCPP_SPLITTER_ERR_PRIMARY_REFUSED: 'refused_by_primary',
  OCPP_SPLITTER_ERR_PRIMARY_UNREACHABLE: 'primary_unreachable',
  OCPP_SPLITTER_ERR_PRIMARY_TIMEOUT: 'primary_timeout',
  OCPP_SPLITTER_ERR_IDENTITY_INVALID: 'invalid_id',
  OCPP_SPLITTER_ERR_UPGRADE_INVALID: 'bad_request',
  OCPP_SPLITTER_ERR_PROXY_CLOSED: 'shutting_down',
  OCPP_SPLITTER_ERR_HANDSHAKE_ABORTED: 'aborted',
  OCPP_SPLITTER_ERR_NO_COMMON_SUBPROTOCOL: 'no_common_subprotocol',
  OCPP_SPLITTER_ERR_TOO_MANY_CONNECTIONS: 'too_many_connections',
  OCPP_SPLITTER_ERR_TOO_MANY_FROM_ADDRESS: 'too_many_from_address',
  OCPP_SPLITTER_ERR_TOO_MANY_PENDING: 'too_many_pending',
  OCPP_SPLITTER_ERR_PENDING_BYTES_BUDGET: 'pending_bytes_budget',
  OCPP_SPLITTER_ERR_HANDSHAKE_TIMEOUT: 'handshake_timeout',
  OCPP_SPLITTER_ERR_TLS_HANDSHAKE_FAILED: 'tls_handshake_failed',
  OCPP_SPLITTER_ERR_CLIENT_CERTIFICATE_REQUIRED: 'certificate_required',
  OCPP_SPLITTER_ERR_CLIENT_CERTIFICATE_INVALID: 'certificate_invalid',
  OCPP_SPLITTER_ERR_CLIENT_CERTIFICATE_MISMATCH: 'certificate_mismatch',
  OCPP_SPLITTER_ERR_CHARGER_UNAUTHORIZED: 'unauthorized',
  OCPP_SPLITTER_ERR_CHARGER_UNKNOWN: 'unknown_charger',
  OCPP_SPLITTER_ERR_TOO_MANY_PASSWORD_CHECKS: 'too_many_password_checks',
};

function dropDescription(reason: string, action: string): string {
  switch (reason) {
    case 'max-attempts':
      return `${action} skipped: the secondary never answered`;
    case 'unsendable':
      return `${action} skipped: it cannot be prepared for this secondary`;
    case 'queue-full':
      return `${action} dropped: the outbox was full`;
    default:
      return `${action} lost: ${reason}`;
  }
}
