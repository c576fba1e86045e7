/**
 * One end of an OCPP-J 1.6 WebSocket for the demo's simulated charger and CSMSs: sends CALLs one at a time and
 * waits for their answers, answers the CALLs it receives, records and traces every frame it sends or receives.
 */
import type { RawData, WebSocket } from 'ws';
import { MessageType, callError, callResult, call, serializeFrame, type CallFrame } from '../ocpp/frame.js';
import { frameOf, type Party, type Trace, type WireRecord } from './trace.js';

/** How a peer answers a CALL it received. */
export type CallHandler = (call: CallFrame) => HandlerResult;

export interface HandlerResult {
  /** The CALLRESULT payload; ignored when `error` is set. */
  readonly payload?: Record<string, unknown>;
  readonly error?: { readonly code: string; readonly description: string };
  /** Runs once the answer has been sent (a charger sends the message a TriggerMessage asked for). */
  readonly afterAnswer?: () => void;
}

/** A CALLERROR answer, or no answer within the time allowed, or the socket closing first. */
export class DemoCallError extends Error {
  constructor(
    readonly action: string,
    readonly code: string,
    description: string,
  ) {
    super(`${action}: ${code}: ${description}`);
    this.name = 'DemoCallError';
  }
}

export interface PeerOptions {
  readonly socket: WebSocket;
  /** This end of the leg. */
  readonly self: Party;
  /** The other end of the leg (always the proxy in the demo). */
  readonly remote: Party;
  readonly identity: string;
  readonly trace: Trace;
  /** Every frame sent or received by any peer, in order. */
  readonly wire: WireRecord[];
  /** Prefix of the message ids this peer generates: c-1, c-2, … */
  readonly idPrefix: string;
  /** Time allowed for an answer to a CALL this peer sends. */
  readonly answerTimeoutMs: number;
}

interface Pending {
  readonly action: string;
  readonly resolve: (payload: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface CallWaiter {
  readonly matches: (call: CallFrame) => boolean;
  readonly resolve: (call: CallFrame) => void;
}

const NOT_IMPLEMENTED = 'NotImplemented';

export class OcppPeer {
  readonly identity: string;
  /** Every CALL this peer received, in order. */
  readonly receivedCalls: CallFrame[] = [];
  readonly #options: PeerOptions;
  readonly #handlers = new Map<string, CallHandler>();
  readonly #pending = new Map<string, Pending>();
  readonly #callWaiters: CallWaiter[] = [];
  #nextId = 1;

  constructor(options: PeerOptions) {
    this.#options = options;
    this.identity = options.identity;
    options.socket.on('message', (data: RawData, isBinary: boolean) => this.#receive(data, isBinary));
    options.socket.on('close', () => this.#failPending('the connection closed'));
  }

  get socket(): WebSocket {
    return this.#options.socket;
  }

  /** Answers every CALL of `action` with `handler`; unhandled actions get a NotImplemented CALLERROR. */
  handle(action: string, handler: CallHandler): void {
    this.#handlers.set(action, handler);
  }

  /** Sends a CALL and resolves with the CALLRESULT payload; rejects with DemoCallError otherwise. */
  call(action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.send(action, payload).answer;
  }

  /** Sends a CALL; `answer` resolves with the CALLRESULT payload or rejects with DemoCallError. */
  send(action: string, payload: Record<string, unknown>): { id: string; answer: Promise<Record<string, unknown>> } {
    const id = `${this.#options.idPrefix}-${this.#nextId++}`;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new DemoCallError(action, 'Timeout', `no answer within ${this.#options.answerTimeoutMs} ms`));
      }, this.#options.answerTimeoutMs);
      this.#pending.set(id, { action, resolve, reject, timer });
    });
    this.#send(serializeFrame(call(id, action, payload)));
    return { id, answer };
  }

  /** Resolves with the first CALL received (already or later) that matches. */
  waitForCall(matches: (call: CallFrame) => boolean): Promise<CallFrame> {
    const found = this.receivedCalls.find(matches);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.#callWaiters.push({ matches, resolve }));
  }

  close(): void {
    this.#failPending('the demo is stopping');
    this.#options.socket.close(1000, 'demo finished');
  }

  #send(text: string, answers?: string): void {
    this.#record({ from: this.#options.self, to: this.#options.remote, text, answers });
    this.#options.socket.send(text);
  }

  #record(entry: Omit<WireRecord, 'frame' | 'identity'>): void {
    const record: WireRecord = { ...entry, identity: this.identity, frame: frameOf(entry.text) };
    this.#options.wire.push(record);
    this.#options.trace.frame(record);
  }

  #receive(data: RawData, isBinary: boolean): void {
    const text = isBinary ? `<${rawLength(data)} binary bytes>` : rawText(data);
    const frame = isBinary ? undefined : frameOf(text);
    const answers = frame !== undefined && frame.type !== MessageType.Call ? this.#pending.get(frame.id)?.action : undefined;
    this.#record({ from: this.#options.remote, to: this.#options.self, text, answers });
    if (frame === undefined) return;
    switch (frame.type) {
      case MessageType.Call:
        this.#answer(frame);
        return;
      case MessageType.CallResult:
      case MessageType.CallError: {
        const pending = this.#pending.get(frame.id);
        if (pending === undefined) return;
        this.#pending.delete(frame.id);
        clearTimeout(pending.timer);
        if (frame.type === MessageType.CallResult) pending.resolve(frame.payload);
        else pending.reject(new DemoCallError(pending.action, frame.errorCode, frame.errorDescription));
        return;
      }
      default:
        return;
    }
  }

  #answer(received: CallFrame): void {
    this.receivedCalls.push(received);
    const handler = this.#handlers.get(received.action);
    const result: HandlerResult = handler?.(received) ?? {
      error: { code: NOT_IMPLEMENTED, description: `the demo ${this.#options.self} does not handle ${received.action}` },
    };
    const answer =
      result.error === undefined
        ? callResult(received.id, result.payload ?? {})
        : callError(received.id, result.error.code, result.error.description);
    this.#send(serializeFrame(answer), received.action);
    for (let i = this.#callWaiters.length - 1; i >= 0; i -= 1) {
      const waiter = this.#callWaiters[i];
      if (waiter?.matches(received) === true) {
        this.#callWaiters.splice(i, 1);
        waiter.resolve(received);
      }
    }
    result.afterAnswer?.();
  }

  #failPending(reason: string): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new DemoCallError(pending.action, 'Closed', reason));
      this.#pending.delete(id);
    }
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
