/**
 * An upstream WebSocket that stays up for as long as its owner wants it: dials,
 * and after a refusal, a failure or a drop, dials again with jittered exponential
 * backoff. The backoff resets only once a connection has stayed up for
 * `stableAfterMs`: a peer that accepts and then closes on every message is retried
 * ever more slowly, never every base delay for ever (a livelock found in review).
 *
 * It carries frames, nothing else: what they mean is its owner's business
 * (delivery, commands). The primary's leg is dialled once at admission with the
 * same `dial()` and `Leg`.
 */
import type { FrameTap } from '../diagnostics/channels.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';
import { backoffDelay } from './backoff.js';
import { CloseCode } from './close-codes.js';
import { dial } from './dial.js';
import type { Keepalive } from './keepalive.js';
import { Leg, type LegHandlers } from './leg.js';

export interface UpstreamTiming {
  readonly connectTimeoutMs: number;
  readonly reconnectDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  /** A connection that lasted this long resets the backoff. */
  readonly stableAfterMs: number;
  readonly maxPayload: number;
  readonly perMessageDeflate: boolean;
}

export interface UpstreamTarget {
  readonly url: string;
  readonly subprotocols: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  /** How the link's socket is named in `frameData` (the dashboard's frame inspector). */
  readonly tap?: FrameTap;
  /** This upstream's TLS options (CA, the proxy's client certificate, verification), read at start. */
  readonly tls?: UpstreamTls;
}

export type UpstreamState = 'idle' | 'connecting' | 'open' | 'waiting' | 'paused' | 'closed';

export interface UpstreamEvents {
  /** Connected; frames flow from now on. */
  onOpen(leg: Leg, subprotocol: string): void;
  onFrame(data: Buffer, isBinary: boolean): void;
  /** Lost after being open; a reconnect is already scheduled unless the link was closed. */
  onDisconnect(code: number, reason: string): void;
  /** A dial failed (refused, unreachable, timeout) or the link dropped; `retryInMs` until the next dial. */
  onWaiting(why: string, detail: Readonly<Record<string, unknown>>, retryInMs: number, failures: number): void;
  onError(error: Error & { code?: string }): void;
}

export class UpstreamLink {
  readonly #target: UpstreamTarget;
  readonly #timing: UpstreamTiming;
  readonly #keepalive: Keepalive;
  readonly #events: UpstreamEvents;
  #state: UpstreamState = 'idle';
  #leg: Leg | undefined;
  #abortDial: AbortController | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /** Failures since the last stable connection: drives the backoff. */
  #failures = 0;
  #openedAt = 0;
  #closedWaiters: (() => void)[] = [];

  constructor(target: UpstreamTarget, timing: UpstreamTiming, keepalive: Keepalive, events: UpstreamEvents) {
    this.#target = target;
    this.#timing = timing;
    this.#keepalive = keepalive;
    this.#events = events;
  }

  /** The open socket's leg, if any. */
  get leg(): Leg | undefined {
    return this.#leg;
  }

  /** Starts dialling; no effect unless idle. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#connect();
  }

  /**
   * The owner counts something as a failure of the link although the socket is
   * up (a message it cannot take): the next reconnect waits longer.
   */
  countFailure(): void {
    this.#failures += 1;
  }

  /**
   * Stops dialling and closes the socket, until `resume()` (an operator's pause). The owner hears
   * `onDisconnect` once the socket is gone, not `onWaiting`: nothing is retried while paused.
   */
  pause(): void {
    if (this.#state === 'closed' || this.#state === 'paused') return;
    this.#state = 'paused';
    clearTimeout(this.#reconnectTimer);
    this.#abortDial?.abort();
    this.#abortDial = undefined;
    this.#leg?.close(CloseCode.GoingAway, 'paused by the operator');
  }

  /** Dials again after `pause()`, with a fresh backoff; no effect otherwise. */
  resume(): void {
    if (this.#state !== 'paused') return;
    const closing = this.#leg;
    if (closing !== undefined) {
      // Its close is still under way: it is over for the owner now, and its late close event is ignored.
      this.#leg = undefined;
      this.#events.onDisconnect(CloseCode.GoingAway, 'paused by the operator');
    }
    this.#failures = 0;
    this.#state = 'idle';
    this.#connect();
  }

  /** Closes for good (idempotent); `closed` settles once the socket is gone. */
  close(code: number = CloseCode.GoingAway, reason = 'charger disconnected'): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#reconnectTimer);
    this.#abortDial?.abort();
    this.#leg?.close(code, reason);
    if (this.#leg === undefined) this.#settleClosed();
  }

  /** Drops the socket at once; the link is closed afterwards. */
  terminate(): void {
    this.close();
    this.#leg?.terminate();
  }

  /** Settles when the link is closed and its socket (if any) is gone. */
  get closed(): Promise<void> {
    if (this.#state === 'closed' && this.#leg === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#closedWaiters.push(resolve));
  }

  #settleClosed(): void {
    for (const resolve of this.#closedWaiters.splice(0)) resolve();
  }

  #connect(): void {
    this.#dial().catch((error: unknown) => {
      // A bug in dialling must not escape into a timer: report it and retry later.
      this.#events.onError(error instanceof Error ? error : new Error(String(error)));
      this.#waitAndRetry('upstream dial failed unexpectedly', {});
    });
  }

  async #dial(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'connecting';
    const abort = new AbortController();
    this.#abortDial = abort;
    const outcome = await dial({
      url: this.#target.url,
      subprotocols: this.#target.subprotocols,
      headers: this.#target.headers,
      timeoutMs: this.#timing.connectTimeoutMs,
      maxPayload: this.#timing.maxPayload,
      perMessageDeflate: this.#timing.perMessageDeflate,
      tls: this.#target.tls,
      signal: abort.signal,
    });
    // A pause and resume during the dial started another one: that one's controller stays.
    if (this.#abortDial === abort) this.#abortDial = undefined;
    if (outcome.kind === 'aborted') return;
    if (this.#isClosed()) {
      if (outcome.kind === 'open') outcome.socket.terminate();
      return;
    }
    if (outcome.kind !== 'open') {
      const detail =
        outcome.kind === 'refused' ? { status: outcome.status } : outcome.kind === 'unreachable' ? { error: outcome.error.message } : {};
      this.#waitAndRetry(`secondary ${outcome.kind}`, detail);
      return;
    }
    this.#leg = new Leg('upstream', outcome.socket, this.#handlers, this.#keepalive, this.#target.tap);
    this.#state = 'open';
    this.#openedAt = Date.now();
    this.#leg.resume();
    this.#events.onOpen(this.#leg, outcome.subprotocol);
  }

  /** Read through a method: the state may change while a dial is awaited. Paused counts as closed. */
  #isClosed(): boolean {
    return this.#state === 'closed' || this.#state === 'paused';
  }

  #waitAndRetry(why: string, detail: Readonly<Record<string, unknown>>): void {
    if (this.#isClosed()) return;
    this.#state = 'waiting';
    const delayMs = backoffDelay(this.#failures, this.#timing.reconnectDelayMs, this.#timing.reconnectMaxDelayMs);
    this.#failures += 1;
    this.#events.onWaiting(why, detail, delayMs, this.#failures);
    this.#reconnectTimer = setTimeout(() => this.#connect(), delayMs).unref();
  }

  readonly #handlers: LegHandlers = {
    onFrame: (_leg, data, isBinary) => this.#events.onFrame(data, isBinary),
    onClose: (leg, code, reason) => {
      // A socket closed for a pause that resume() already let go of.
      if (leg !== this.#leg) return;
      this.#leg = undefined;
      if (this.#state === 'closed') {
        this.#settleClosed();
        return;
      }
      if (this.#state === 'paused') {
        this.#events.onDisconnect(code, reason);
        return;
      }
      // Only a connection that lasted resets the backoff (see the module comment).
      if (Date.now() - this.#openedAt >= this.#timing.stableAfterMs) this.#failures = 0;
      this.#events.onDisconnect(code, reason);
      this.#waitAndRetry('secondary disconnected', { code, reason });
    },
    onError: (_leg, error) => this.#events.onError(error),
  };
}
