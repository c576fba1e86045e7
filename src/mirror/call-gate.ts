import { randomUUID } from 'node:crypto';
import { MessageType, serializeFrame, type CallFrame } from '../ocpp/frame.js';
import { withMessageId } from '../ocpp/readdress.js';

/** A CALL a secondary wants the charger to answer, and where the answer goes. */
export interface GatedCall {
  /** The secondary's CALL; its id is the secondary's, restored on the answer. */
  readonly call: CallFrame;
  /** The CALL as the secondary sent it: what goes to the charger (under the proxy's id), never re-serialised. */
  readonly frame: Buffer;
  /** Receives the charger's CALLRESULT / CALLERROR, re-addressed to the secondary's id. */
  deliver(answer: string): void;
  /** No answer will come (timeout, charger gone, queue full); the caller answers with a CALLERROR. */
  fail(reason: GateFailure): void;
}

export type GateFailure = 'timeout' | 'charger-gone' | 'busy';

/** Calls waiting for the gate, per session: a secondary that floods is refused, not queued forever. */
export const MAX_WAITING_CALLS = 16;
/** Proxy CALL ids remembered after their timeout, so a late answer is still recognised as ours. */
const MAX_EXPIRED_IDS = 1024;
/** How long a timed-out proxy CALL's id is remembered. */
const EXPIRED_ID_TTL_MS = 60 * 60_000;

interface InFlight {
  readonly proxyId: string;
  readonly gated: GatedCall;
  readonly timer: NodeJS.Timeout;
}

/**
 * The one door for CALLs the proxy sends the charger on a secondary's behalf.
 *
 * OCPP-J allows one outstanding CALL per direction (1.6 §4.1.1 SHOULD, 2.0.1
 * Part 4 §4.1.1 SHALL). The primary's CALLs are never held back — the proxy must
 * not delay the primary — so the gate waits for a moment when the primary has
 * nothing outstanding, then sends at most one proxy CALL at a time. Its message
 * id is replaced by a UUID so it can never collide with the primary's, and the
 * charger's answer is mapped back and never reaches the primary.
 */
export class CallGate {
  readonly #sendToCharger: (text: string) => boolean;
  readonly #answerTimeoutMs: number;
  readonly #waiting: GatedCall[] = [];
  #inFlight: InFlight | undefined;
  /** The primary's outstanding CALL toward the charger, and when it was sent. */
  #primaryCall: { id: string; sentAt: number } | undefined;
  #primaryTimer: NodeJS.Timeout | undefined;
  /**
   * Timed-out proxy CALLs: id → when it expires. A charger may still answer after
   * the timeout; that answer belongs to no one, and above all not to the primary
   * (OCPP 2.0.1 Part 4 §6: answers to the proxy's own CALLs are never forwarded).
   */
  readonly #expired = new Map<string, number>();
  #closed = false;

  readonly #onError: (error: unknown) => void;

  /** `onError` hears of a bug in the gate's own timers, which must never reach the event loop. */
  constructor(sendToCharger: (text: string) => boolean, answerTimeoutMs: number, onError: (error: unknown) => void = () => undefined) {
    this.#sendToCharger = sendToCharger;
    this.#answerTimeoutMs = answerTimeoutMs;
    this.#onError = onError;
  }

  #pumpSafely(): void {
    this.#safely(() => this.#pump());
  }

  #safely(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.#onError(error);
    }
  }

  /** The primary sent the charger a CALL: proxy CALLs wait until it is answered. */
  primaryCallSent(id: string): void {
    this.#primaryCall = { id, sentAt: Date.now() };
  }

  /** Whether `id` is the proxy CALL in flight to the charger (for the routing table). */
  isInFlight(id: string): boolean {
    return this.#inFlight?.proxyId === id;
  }

  /** Whether a proxy CALL is in flight or a timed-out one is remembered (worth reading a malformed answer's id for). */
  hasProxyCalls(): boolean {
    return this.#inFlight !== undefined || this.#expired.size > 0;
  }

  /** Whether `id` is a proxy CALL that timed out and is still remembered. */
  isExpired(id: string): boolean {
    return this.#expired.size > 0 && this.#expired.has(id);
  }

  /** The charger answered the proxy CALL in flight: the answer goes to its secondary under the secondary's id. */
  deliverAnswer(id: string, frame: Buffer): void {
    if (this.#inFlight?.proxyId !== id) return;
    const { gated, timer } = this.#inFlight;
    clearTimeout(timer);
    this.#inFlight = undefined;
    gated.deliver(readdress(frame, gated.call.id));
    this.#pump();
  }

  /** A late answer to a timed-out proxy CALL arrived: it is forgotten. */
  forgetExpired(id: string): void {
    this.#expired.delete(id);
  }

  /** The charger answered a CALL that is not the proxy's: if it is the primary's, proxy CALLs may go again. */
  chargerAnswered(id: string): void {
    if (this.#primaryCall?.id === id) {
      this.#primaryCall = undefined;
      this.#pump();
    }
  }

  /** Queues a secondary's CALL for the charger. */
  submit(gated: GatedCall): void {
    if (this.#closed) {
      gated.fail('charger-gone');
      return;
    }
    if (this.#waiting.length >= MAX_WAITING_CALLS) {
      gated.fail('busy');
      return;
    }
    this.#waiting.push(gated);
    this.#pump();
  }

  /** Fails everything pending (the charger is gone); idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#primaryTimer);
    if (this.#inFlight !== undefined) {
      clearTimeout(this.#inFlight.timer);
      this.#inFlight.gated.fail('charger-gone');
      this.#inFlight = undefined;
    }
    for (const gated of this.#waiting.splice(0)) gated.fail('charger-gone');
  }

  #pump(): void {
    if (this.#closed || this.#inFlight !== undefined || this.#waiting.length === 0) return;
    if (this.#primaryCall !== undefined) {
      // A charger that never answers the primary must not block secondaries for
      // ever: after the answer timeout the primary's CALL counts as timed out.
      const waitedMs = Date.now() - this.#primaryCall.sentAt;
      if (waitedMs < this.#answerTimeoutMs) {
        clearTimeout(this.#primaryTimer);
        this.#primaryTimer = setTimeout(() => this.#pumpSafely(), this.#answerTimeoutMs - waitedMs).unref();
        return;
      }
      this.#primaryCall = undefined;
    }
    const gated = this.#waiting.shift();
    if (gated === undefined) return;
    const proxyId = randomUUID();
    // The secondary's bytes under our id: a payload no JSON round trip survives passes as it came.
    const text = withMessageId(gated.frame, proxyId);
    if (text === undefined || !this.#sendToCharger(text)) {
      gated.fail('charger-gone');
      this.#pump();
      return;
    }
    const timer = setTimeout(() => this.#safely(() => this.#timedOut(proxyId)), this.#answerTimeoutMs).unref();
    this.#inFlight = { proxyId, gated, timer };
  }

  #timedOut(proxyId: string): void {
    if (this.#inFlight?.proxyId !== proxyId) return;
    const { gated } = this.#inFlight;
    this.#inFlight = undefined;
    this.#rememberExpired(proxyId);
    gated.fail('timeout');
    this.#pump();
  }

  #rememberExpired(proxyId: string): void {
    const now = Date.now();
    for (const [id, expiresAt] of this.#expired) {
      // Oldest first (insertion order): stop at the first one still fresh, unless over the bound.
      if (expiresAt > now && this.#expired.size < MAX_EXPIRED_IDS) break;
      this.#expired.delete(id);
    }
    this.#expired.set(proxyId, now + EXPIRED_ID_TTL_MS);
  }
}

/** The charger's answer with the secondary's original message id in place of the proxy's. */
function readdress(frame: Buffer, originalId: string): string {
  // The payload is copied as it arrived, never re-serialised (it may be deeper than a JSON round trip survives).
  const readdressed = withMessageId(frame, originalId);
  if (readdressed !== undefined) return readdressed;
  // An answer we cannot parse cannot be re-addressed; say so in a CALLERROR the secondary can read.
  return serializeFrame({
    type: MessageType.CallError,
    id: originalId,
    errorCode: 'GenericError',
    errorDescription: 'the charger answered with a malformed frame',
    errorDetails: {},
  });
}
