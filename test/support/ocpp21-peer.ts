/**
 * Strict OCPP 2.1 peers for tests: a charger and a CSMS on raw `ws` sockets that check every frame
 * they receive and every frame they send against OCPP-J 2.1 (Part 4 §4) and the OCA's published OCPP 2.1
 * JSON schemas (the files ocpp-rpc ships in lib/schemas/ocpp2_1.json, checked with ocpp-rpc's own
 * ajv 8 + ajv-formats validator: no coercion, no defaults, nothing removed).
 *
 * Why not a library peer: ocpp-rpc's client and server know only message types 2–4 and answer a SEND (6)
 * or a CALLRESULTERROR (5) with a CALLERROR MessageTypeNotSupported, which 2.1 forbids; ocpp-ws-io
 * reports both as bad messages, cannot send them, and needs `voltlog-io`, which the registry lacks.
 *
 * What counts as a violation (recorded on the peer; see `takeOcpp21Violations()`):
 * - a frame that is not a JSON array of a known message type and arity, an id that is not a string of 1–36
 *   characters, a payload that is not an object, an error code that is not a 2.x code, a description over 255;
 * - a CALL / SEND / CALLRESULT payload that fails its schema (`<Action>Request` / `<Action>` / `<Action>Response`);
 *   an action sent as CALL that the schemas define as a SEND, or the other way round;
 * - a CALLRESULT / CALLERROR whose id is not this peer's outstanding CALL;
 * - a CALLRESULTERROR whose id is not a CALL this peer answered with a CALLRESULT;
 * - a CALL arriving while this peer has not answered the previous one (2.x SHALL: one outstanding CALL);
 * - a CALL or SEND id used twice by the other side on the connection; a CALL no handler was registered for.
 * Frames a test sends that break these rules throw at once: fixtures must be valid too.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createValidator } from 'ocpp-rpc';
import schemas21 from 'ocpp-rpc/lib/schemas/ocpp2_1.json' with { type: 'json' };
import { WebSocket, WebSocketServer } from 'ws';
import { onCleanup } from './harness.js';

export const OCPP21_SUBPROTOCOL = 'ocpp2.1';

/** OCPP-J 2.1 Part 4 §4.1.3: message ids are strings of at most 36 characters. */
const MAX_MESSAGE_ID_LENGTH = 36;
/** OCPP-J 2.1 Part 4 §4.2.3: errorDescription is at most 255 characters. */
const MAX_ERROR_DESCRIPTION_LENGTH = 255;
/** How long `call()` waits for an answer; below the test timeout so a lost answer fails with its own message. */
const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** How long `waitFor()` waits by default; likewise below the test timeout. */
export const DEFAULT_WAIT_MS = 10_000;
const SHOWN_FRAME_CHARS = 300;

/** OCPP 2.0.1 / 2.1 Part 4 §4.3 RPC framework error codes. */
export const OCPP21_ERROR_CODES: ReadonlySet<string> = new Set([
  'FormatViolation',
  'GenericError',
  'InternalError',
  'MessageTypeNotSupported',
  'NotImplemented',
  'NotSupported',
  'OccurrenceConstraintViolation',
  'PropertyConstraintViolation',
  'ProtocolError',
  'RpcFrameworkError',
  'SecurityError',
  'TypeConstraintViolation',
]);

export const MessageType21 = { Call: 2, CallResult: 3, CallError: 4, CallResultError: 5, Send: 6 } as const;

export type Payload = Record<string, unknown>;

export type Ocpp21Frame =
  | { readonly type: 2; readonly id: string; readonly action: string; readonly payload: Payload }
  | { readonly type: 3; readonly id: string; readonly payload: Payload }
  | {
      readonly type: 4 | 5;
      readonly id: string;
      readonly errorCode: string;
      readonly errorDescription: string;
      readonly errorDetails: Payload;
    }
  | { readonly type: 6; readonly id: string; readonly action: string; readonly payload: Payload };

/** A frame as it arrived: its exact text and, when it could be read, the parsed frame. */
export interface ReceivedFrame {
  readonly text: string;
  readonly frame: Ocpp21Frame | undefined;
}

// ── Schemas ──────────────────────────────────────────────────────────────────

type SchemaKind = 'request' | 'response' | 'send';

const validator21 = createValidator(OCPP21_SUBPROTOCOL, schemas21);
// The published 2.1 schemas put `additionalProperties` on string enums, which ajv's strictTypes logs once per
// schema; it changes no verdict.
validator21._ajv.opts.strictTypes = false;
/** Every schema id in the set: `urn:<Action>Request`, `urn:<Action>Response`, and `urn:<Action>` for a SEND. */
const schemaIds: ReadonlySet<string> = new Set(schemas21.map((schema) => schema.$id));

function schemaId(action: string, kind: SchemaKind): string {
  return kind === 'send' ? `urn:${action}` : `urn:${action}${kind === 'request' ? 'Request' : 'Response'}`;
}

/** True when the 2.1 schemas define `action` as a SEND (one schema, no Request/Response pair). */
export function isSendAction(action: string): boolean {
  return schemaIds.has(schemaId(action, 'send')) && !schemaIds.has(schemaId(action, 'request'));
}

/** Why `payload` is not a valid 2.1 `action` payload of this kind, or undefined when it is. */
export function payloadProblem(action: string, kind: SchemaKind, payload: unknown): string | undefined {
  if (kind !== 'send' && isSendAction(action)) return `${action} is a SEND in OCPP 2.1, not a CALL`;
  if (kind === 'send' && schemaIds.has(schemaId(action, 'request'))) return `${action} is a CALL in OCPP 2.1, not a SEND`;
  const id = schemaId(action, kind);
  const validate = schemaIds.has(id) ? validator21._ajv.getSchema(id) : undefined;
  if (validate === undefined) return `no OCPP 2.1 schema ${id}`;
  if (validate(payload) === true) return undefined;
  return `${id}: ${validator21._ajv.errorsText(validate.errors)}`;
}

// ── Framing ──────────────────────────────────────────────────────────────────

function isPayload(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return 'message id is not a string';
  if (id.length === 0 || id.length > MAX_MESSAGE_ID_LENGTH) return `message id has ${id.length} characters (1–${MAX_MESSAGE_ID_LENGTH})`;
  return undefined;
}

/** Reads an OCPP-J 2.1 frame; `problem` says why it is not one (framing only, not the payload schema). */
export function parseFrame21(text: string): { frame: Ocpp21Frame; problem?: never } | { frame?: never; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `not JSON (${(error as Error).message})` };
  }
  if (!Array.isArray(value)) return { problem: 'not a JSON array' };
  const [type, id] = value as unknown[];
  const badId = idProblem(id);
  const arity = (n: number): string | undefined => (value.length === n ? undefined : `message type ${String(type)} with ${value.length} elements (expected ${n})`);
  switch (type) {
    case MessageType21.Call:
    case MessageType21.Send: {
      const problem = arity(4) ?? badId;
      if (problem !== undefined) return { problem };
      const [, , action, payload] = value as unknown[];
      if (typeof action !== 'string' || action.length === 0) return { problem: 'action is not a non-empty string' };
      if (!isPayload(payload)) return { problem: 'payload is not an object' };
      return { frame: { type, id: id as string, action, payload } };
    }
    case MessageType21.CallResult: {
      const problem = arity(3) ?? badId;
      if (problem !== undefined) return { problem };
      const payload: unknown = value[2];
      if (!isPayload(payload)) return { problem: 'payload is not an object' };
      return { frame: { type, id: id as string, payload } };
    }
    case MessageType21.CallError:
    case MessageType21.CallResultError: {
      const problem = arity(5) ?? badId;
      if (problem !== undefined) return { problem };
      const [, , errorCode, errorDescription, errorDetails] = value as unknown[];
      if (typeof errorCode !== 'string' || !OCPP21_ERROR_CODES.has(errorCode)) return { problem: `error code ${JSON.stringify(errorCode)} is not an OCPP 2.x code` };
      if (typeof errorDescription !== 'string') return { problem: 'errorDescription is not a string' };
      if (errorDescription.length > MAX_ERROR_DESCRIPTION_LENGTH) return { problem: `errorDescription has ${errorDescription.length} characters (max ${MAX_ERROR_DESCRIPTION_LENGTH})` };
      if (!isPayload(errorDetails)) return { problem: 'errorDetails is not an object' };
      return { frame: { type, id: id as string, errorCode, errorDescription, errorDetails } };
    }
    default:
      return { problem: `unknown message type ${JSON.stringify(type)}` };
  }
}

function shown(text: string): string {
  return text.length > SHOWN_FRAME_CHARS ? `${text.slice(0, SHOWN_FRAME_CHARS)}…` : text;
}

// ── Peer ─────────────────────────────────────────────────────────────────────

/** Throw from a handler to answer with this CALLERROR. */
export class Ocpp21CallError extends Error {
  constructor(
    readonly errorCode: string,
    description: string,
    readonly errorDetails: Payload = {},
  ) {
    super(description);
    this.name = 'Ocpp21CallError';
  }
}

/** A frame this peer was asked to send breaks OCPP 2.1: a broken fixture, not a proxy bug. */
export class Ocpp21FixtureError extends Error {
  override name = 'Ocpp21FixtureError';
}

export interface IncomingCall {
  readonly id: string;
  readonly action: string;
  readonly text: string;
}

export type CallHandler = (payload: Payload, call: IncomingCall) => Payload | Promise<Payload>;

/** A CALL this peer sent and the answer it got. */
export interface CallOutcome {
  readonly id: string;
  readonly text: string;
  readonly payload: Payload;
}

export type PeerRole = 'charger' | 'csms';

interface Waiter {
  readonly predicate: (received: ReceivedFrame) => boolean;
  readonly resolve: (received: ReceivedFrame) => void;
  readonly reject: (error: Error) => void;
}

interface PendingCall {
  readonly action: string;
  readonly resolve: (outcome: CallOutcome) => void;
  readonly reject: (error: Error) => void;
  readonly text: string;
  readonly timer: NodeJS.Timeout;
}

const livePeers = new Set<Ocpp21Peer>();

/** Every violation any peer recorded since the last call, labelled with the peer's name; clears them. */
export function takeOcpp21Violations(): string[] {
  const all: string[] = [];
  for (const peer of livePeers) all.push(...peer.violations.splice(0).map((violation) => `${peer.name}: ${violation}`));
  return all;
}

export class Ocpp21Peer {
  readonly received: ReceivedFrame[] = [];
  readonly sent: string[] = [];
  readonly violations: string[] = [];
  /** Settles when the socket has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;

  readonly #handlers = new Map<string, CallHandler>();
  readonly #waiters = new Set<Waiter>();
  #nextId = 1;
  /** Our CALL awaiting its answer (one at a time); further `call()`s queue behind it. */
  #pending: { id: string; call: PendingCall } | undefined;
  #callQueue: Promise<unknown> = Promise.resolve();
  /** The other side's CALL we have not answered yet. */
  #unanswered: string | undefined;
  /** Ids of CALLs we answered with a CALLRESULT: the only ids a CALLRESULTERROR to us may carry. */
  readonly #answeredWithResult = new Set<string>();
  /** Ids of CALLRESULTs we received: the only ids our own CALLRESULTERROR may carry. */
  readonly #resultsReceived = new Set<string>();
  /** CALL and SEND ids the other side used on this connection. */
  readonly #seenIds = new Set<string>();

  constructor(
    readonly name: string,
    readonly role: PeerRole,
    readonly socket: WebSocket,
  ) {
    livePeers.add(this);
    socket.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    socket.on('error', () => {
      // Surfaces as the close the tests observe.
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (code: number, reason: Buffer) => {
        for (const waiter of this.#waiters) waiter.reject(new Error(`${this.name}: socket closed (${code}) while waiting for a frame`));
        this.#waiters.clear();
        resolve({ code, reason: reason.toString() });
      });
    });
    onCleanup(() => {
      socket.terminate();
      if (this.#pending !== undefined) clearTimeout(this.#pending.call.timer);
      livePeers.delete(this);
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Answers the other side's CALLs of `action`; replaces an earlier handler. */
  handle(action: string, handler: CallHandler): this {
    this.#handlers.set(action, handler);
    return this;
  }

  /**
   * Sends a CALL (after our previous CALL, if any, is answered) and resolves with the CALLRESULT;
   * rejects with an Ocpp21CallError on a CALLERROR.
   */
  call(action: string, payload: Payload, options: { id?: string; timeoutMs?: number } = {}): Promise<CallOutcome> {
    const run = this.#callQueue.then(() => this.#call(action, payload, options));
    this.#callQueue = run.catch(() => undefined);
    return run;
  }

  /** Sends a SEND (never answered) and returns its exact text. */
  send(action: string, payload: Payload, id = this.#freshId()): string {
    return this.sendText(JSON.stringify([MessageType21.Send, id, action, payload]));
  }

  /** Sends a CALLRESULTERROR about the CALLRESULT we received for `id`; returns its exact text. */
  callResultError(id: string, errorCode: string, description: string, details: Payload = {}): string {
    return this.sendText(JSON.stringify([MessageType21.CallResultError, id, errorCode, description, details]));
  }

  /**
   * Sends `text` exactly as given, after checking it as an outgoing frame of this peer. For frames whose bytes
   * matter (whitespace, key order); CALLs go through `call()` so that their answers are matched.
   */
  sendText(text: string): string {
    const problem = this.#outgoingProblem(text);
    if (problem !== undefined) throw new Ocpp21FixtureError(`${this.name} would send an invalid frame: ${problem}; frame: ${shown(text)}`);
    this.#write(text);
    return text;
  }

  /** The first received frame (already here, or yet to come) that matches; rejects after `timeoutMs`. */
  waitFor(predicate: (received: ReceivedFrame) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedFrame> {
    const found = this.received.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        predicate,
        resolve: (received) => {
          clearTimeout(timer);
          resolve(received);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** The received frame of `type` with message id `id`. */
  waitForId(type: Ocpp21Frame['type'], id: string, timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedFrame> {
    return this.waitFor((r) => r.frame?.type === type && r.frame.id === id, `message of type ${type} with id ${id}`, timeoutMs);
  }

  /** The first received CALL or SEND of `action`. */
  waitForAction(type: 2 | 6, action: string, timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedFrame> {
    return this.waitFor((r) => r.frame?.type === type && r.frame.action === action, `${type === 2 ? 'CALL' : 'SEND'} ${action}`, timeoutMs);
  }

  /** Received frames of the given type. */
  framesOfType(type: Ocpp21Frame['type']): Ocpp21Frame[] {
    return this.received.flatMap((r) => (r.frame?.type === type ? [r.frame] : []));
  }

  /** Closes the socket normally and waits for it to close. */
  async close(code = 1000, reason = ''): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close(code, reason);
    await this.closed;
  }

  // ── internals ──

  #freshId(): string {
    return `${this.role === 'charger' ? 'cs' : 'csms'}-${this.#nextId++}`;
  }

  async #call(action: string, payload: Payload, options: { id?: string; timeoutMs?: number }): Promise<CallOutcome> {
    const id = options.id ?? this.#freshId();
    const text = JSON.stringify([MessageType21.Call, id, action, payload]);
    const problem = this.#outgoingProblem(text);
    if (problem !== undefined) throw new Ocpp21FixtureError(`${this.name} would send an invalid CALL: ${problem}`);
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    return new Promise<CallOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending?.id === id) this.#pending = undefined;
        reject(new Error(`${this.name}: no answer to CALL ${action} ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending = { id, call: { action, resolve, reject, text, timer } };
      this.#write(text);
    });
  }

  #write(text: string): void {
    this.sent.push(text);
    this.socket.send(text);
  }

  #outgoingProblem(text: string): string | undefined {
    const parsed = parseFrame21(text);
    if (parsed.problem !== undefined) return parsed.problem;
    const frame = parsed.frame;
    switch (frame.type) {
      case MessageType21.Call:
        if (this.#pending !== undefined) return `a CALL while our CALL ${this.#pending.id} is unanswered`;
        return payloadProblem(frame.action, 'request', frame.payload);
      case MessageType21.Send:
        return payloadProblem(frame.action, 'send', frame.payload);
      case MessageType21.CallResultError:
        return this.#resultsReceived.has(frame.id) ? undefined : `CALLRESULTERROR for ${frame.id}, which is no CALLRESULT we received`;
      case MessageType21.CallResult:
      case MessageType21.CallError:
        // Answers are built by the handler machinery, which checks them itself.
        return 'answers are sent by handlers, not by tests';
    }
  }

  #violation(problem: string, text: string): void {
    const violation = `${problem}; frame: ${shown(text)}`;
    this.violations.push(violation);
    // A test waiting for a frame fails now, with the reason, rather than at its timeout.
    for (const waiter of this.#waiters) waiter.reject(new Error(`${this.name}: ${violation}`));
    this.#waiters.clear();
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    const text = data.toString('utf8');
    const parsed = isBinary ? { problem: 'a binary frame' } : parseFrame21(text);
    const received: ReceivedFrame = { text, frame: parsed.frame };
    this.received.push(received);
    if (parsed.problem !== undefined) {
      this.#violation(`received ${parsed.problem}`, text);
    } else {
      this.#check(parsed.frame, text);
    }
    for (const waiter of this.#waiters) {
      if (waiter.predicate(received)) {
        this.#waiters.delete(waiter);
        waiter.resolve(received);
      }
    }
  }

  #check(frame: Ocpp21Frame, text: string): void {
    switch (frame.type) {
      case MessageType21.Call:
        this.#onCall(frame, text);
        return;
      case MessageType21.Send: {
        if (this.#seenIds.has(frame.id)) this.#violation(`SEND id ${frame.id} was already used on this connection`, text);
        this.#seenIds.add(frame.id);
        const problem = payloadProblem(frame.action, 'send', frame.payload);
        if (problem !== undefined) this.#violation(`received an invalid SEND: ${problem}`, text);
        return;
      }
      case MessageType21.CallResult:
      case MessageType21.CallError: {
        const pending = this.#pending;
        if (pending?.id !== frame.id) {
          this.#violation(`received an answer to ${frame.id}, which is not our outstanding CALL (${pending?.id ?? 'none'})`, text);
          return;
        }
        this.#pending = undefined;
        clearTimeout(pending.call.timer);
        if (frame.type !== MessageType21.CallResult) {
          pending.call.reject(new Ocpp21CallError(frame.errorCode, frame.errorDescription, frame.errorDetails));
          return;
        }
        this.#resultsReceived.add(frame.id);
        const problem = payloadProblem(pending.call.action, 'response', frame.payload);
        if (problem !== undefined) {
          this.#violation(`received an invalid CALLRESULT: ${problem}`, text);
          pending.call.reject(new Error(`${this.name}: invalid CALLRESULT to ${pending.call.action}: ${problem}`));
          return;
        }
        pending.call.resolve({ id: frame.id, text: pending.call.text, payload: frame.payload });
        return;
      }
      case MessageType21.CallResultError:
        if (!this.#answeredWithResult.has(frame.id)) {
          this.#violation(`received a CALLRESULTERROR for ${frame.id}, which is no CALL we answered with a CALLRESULT`, text);
        }
        return;
    }
  }

  #onCall(call: Extract<Ocpp21Frame, { type: 2 }>, text: string): void {
    if (this.#seenIds.has(call.id)) this.#violation(`CALL id ${call.id} was already used on this connection`, text);
    this.#seenIds.add(call.id);
    if (this.#unanswered !== undefined) {
      this.#violation(`received a CALL while the CALL ${this.#unanswered} is unanswered (OCPP-J 2.1 §4.1.1: one outstanding CALL)`, text);
    }
    this.#unanswered = call.id;
    const problem = payloadProblem(call.action, 'request', call.payload);
    if (problem !== undefined) {
      this.#violation(`received an invalid CALL: ${problem}`, text);
      this.#answerError(call.id, 'FormatViolation', problem.slice(0, MAX_ERROR_DESCRIPTION_LENGTH));
      return;
    }
    const handler = this.#handlers.get(call.action);
    if (handler === undefined) {
      this.#violation(`received a CALL ${call.action} this test did not expect (no handler)`, text);
      this.#answerError(call.id, 'NotImplemented', `${call.action} is not handled here`);
      return;
    }
    const incoming: IncomingCall = { id: call.id, action: call.action, text };
    Promise.resolve()
      .then(() => handler(call.payload, incoming))
      .then(
        (payload) => this.#answerResult(incoming, payload),
        (error: unknown) => {
          if (error instanceof Ocpp21CallError) this.#answerError(call.id, error.errorCode, error.message, error.errorDetails);
          else this.#answerError(call.id, 'InternalError', String(error).slice(0, MAX_ERROR_DESCRIPTION_LENGTH));
        },
      )
      .catch((error: unknown) => this.#violation(`answering ${call.action} failed: ${String(error)}`, text));
  }

  #answerResult(call: IncomingCall, payload: Payload): void {
    const problem = payloadProblem(call.action, 'response', payload);
    if (problem !== undefined) throw new Ocpp21FixtureError(`${this.name}'s handler for ${call.action} returned an invalid payload: ${problem}`);
    this.#settleIncoming(call.id);
    this.#answeredWithResult.add(call.id);
    if (this.isOpen) this.#write(JSON.stringify([MessageType21.CallResult, call.id, payload]));
  }

  #answerError(id: string, errorCode: string, description: string, details: Payload = {}): void {
    if (!OCPP21_ERROR_CODES.has(errorCode)) throw new Ocpp21FixtureError(`${this.name}: ${errorCode} is not an OCPP 2.x error code`);
    this.#settleIncoming(id);
    if (this.isOpen) this.#write(JSON.stringify([MessageType21.CallError, id, errorCode, description, details]));
  }

  #settleIncoming(id: string): void {
    if (this.#unanswered === id) this.#unanswered = undefined;
  }
}

// ── Charger ──────────────────────────────────────────────────────────────────

/** Opens a strict 2.1 charger to `url`, offering only `ocpp2.1`; fails unless the handshake picks it. */
export async function connectStrictCharger21(url: string, options: { name?: string; headers?: Record<string, string> } = {}): Promise<Ocpp21Peer> {
  const socket = new WebSocket(url, [OCPP21_SUBPROTOCOL], { headers: options.headers });
  const peer = new Ocpp21Peer(options.name ?? 'charger', 'charger', socket);
  await once(socket, 'open');
  if (socket.protocol !== OCPP21_SUBPROTOCOL) throw new Error(`charger: handshake chose ${JSON.stringify(socket.protocol)}, not ${OCPP21_SUBPROTOCOL}`);
  return peer;
}

// ── CSMS ─────────────────────────────────────────────────────────────────────

const currentTime = (): string => new Date().toISOString();

/** Valid answers to the charger-initiated CALLs the tests use; a test can replace any of them per peer. */
export const CSMS21_DEFAULT_HANDLERS: Readonly<Record<string, CallHandler>> = {
  BootNotification: () => ({ currentTime: currentTime(), interval: 300, status: 'Accepted' }),
  Heartbeat: () => ({ currentTime: currentTime() }),
  StatusNotification: () => ({}),
  Authorize: () => ({ idTokenInfo: { status: 'Accepted' } }),
  TransactionEvent: (payload) => (payload.idToken === undefined ? {} : { idTokenInfo: { status: 'Accepted' } }),
  MeterValues: () => ({}),
  NotifyEvent: () => ({}),
};

export interface StrictCsms21 {
  readonly url: string;
  readonly peers: Ocpp21Peer[];
  /** The upgrade request of each connection, in order. */
  readonly requests: IncomingMessage[];
  /** The next connection not yet taken (already open, or yet to come). */
  readonly nextPeer: () => Promise<Ocpp21Peer>;
}

/** A strict 2.1 CSMS: accepts upgrades offering `ocpp2.1` (only), answers with CSMS21_DEFAULT_HANDLERS. */
export async function startStrictCsms21(name: string, options: { path?: string; handlers?: Record<string, CallHandler> } = {}): Promise<StrictCsms21> {
  const httpServer = createServer();
  const wss = new WebSocketServer({
    server: httpServer,
    handleProtocols: (offered) => (offered.has(OCPP21_SUBPROTOCOL) ? OCPP21_SUBPROTOCOL : false),
  });
  const peers: Ocpp21Peer[] = [];
  const requests: IncomingMessage[] = [];
  const waiting: Array<(peer: Ocpp21Peer) => void> = [];
  let taken = 0;
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const peer = new Ocpp21Peer(peers.length === 0 ? name : `${name}#${peers.length + 1}`, 'csms', socket);
    if (socket.protocol !== OCPP21_SUBPROTOCOL) peer.violations.push(`connected without ${OCPP21_SUBPROTOCOL} (offered ${String(request.headers['sec-websocket-protocol'])})`);
    for (const [action, handler] of Object.entries({ ...CSMS21_DEFAULT_HANDLERS, ...options.handlers })) peer.handle(action, handler);
    peers.push(peer);
    requests.push(request);
    const waiter = waiting.shift();
    if (waiter !== undefined) {
      taken += 1;
      waiter(peer);
    }
  });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const { port } = httpServer.address() as AddressInfo;
  onCleanup(async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    httpServer.closeAllConnections();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  });
  return {
    url: `ws://127.0.0.1:${port}${options.path ?? '/ocpp'}`,
    peers,
    requests,
    nextPeer() {
      const ready = peers[taken];
      if (ready !== undefined) {
        taken += 1;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}
