/**
 * The OCPP-J frame codec: one parse at the edge into a discriminated union, with runtime checks in a fixed order
 * so every malformed frame maps to exactly one reason (and so to one CALLERROR code).
 *
 * The proxy never forwards what `serializeFrame` produces: frames that pass through are forwarded as the bytes
 * that arrived (OCPP 2.0.1 Part 4 §6 — signed meter values depend on the exact bytes). Parsing is only for
 * decisions, and on the hot path `scanFrameHead` (scan.ts) usually makes even this parse unnecessary.
 */

export const MessageType = {
  Call: 2,
  CallResult: 3,
  CallError: 4,
  /** OCPP 2.1 only: answers a CALLRESULT that could not be processed. */
  CallResultError: 5,
  /** OCPP 2.1 only: a one-way message that is never answered. */
  Send: 6,
} as const;

export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** OCPP-J (all versions): a message id is a string of at most 36 characters, room for a UUID. */
export const MAX_MESSAGE_ID_LENGTH = 36;

/** OCPP 2.0.1 Part 4 §4.2.3: errorDescription is at most 255 characters. */
export const MAX_ERROR_DESCRIPTION_LENGTH = 255;

/** The id to answer with when the id of a malformed frame cannot be read (OCPP 2.x Part 4 §4.2.3). */
export const UNREADABLE_MESSAGE_ID = '-1';

export interface CallFrame {
  readonly type: typeof MessageType.Call;
  readonly id: string;
  readonly action: string;
  readonly payload: Record<string, unknown>;
}

export interface CallResultFrame {
  readonly type: typeof MessageType.CallResult;
  readonly id: string;
  readonly payload: Record<string, unknown>;
}

export interface CallErrorFrame {
  readonly type: typeof MessageType.CallError;
  readonly id: string;
  readonly errorCode: string;
  readonly errorDescription: string;
  readonly errorDetails: Record<string, unknown>;
}

export interface CallResultErrorFrame {
  readonly type: typeof MessageType.CallResultError;
  readonly id: string;
  readonly errorCode: string;
  readonly errorDescription: string;
  readonly errorDetails: Record<string, unknown>;
}

export interface SendFrame {
  readonly type: typeof MessageType.Send;
  readonly id: string;
  readonly action: string;
  readonly payload: Record<string, unknown>;
}

export type Frame = CallFrame | CallResultFrame | CallErrorFrame | CallResultErrorFrame | SendFrame;

/** Why a frame was rejected, in the order `parseFrame` checks them. */
export type FrameErrorReason =
  | 'not-json'
  | 'not-array'
  | 'bad-message-type'
  | 'unknown-message-type'
  | 'bad-message-id'
  | 'bad-length'
  | 'bad-action'
  | 'bad-payload'
  | 'bad-error-code'
  | 'bad-error-description';

export interface FrameError {
  readonly reason: FrameErrorReason;
  /** Fixed text per check; never echoes the frame, so it is safe to put in a CALLERROR description or a log. */
  readonly message: string;
  /**
   * The frame's message id when element 1 is a valid id (a string of 1..36 characters), whatever check failed
   * later — or earlier: an unknown message type still has a readable id, which a 2.0.1 link needs for its
   * MessageTypeNotSupported answer. `undefined` otherwise; callers then answer with `UNREADABLE_MESSAGE_ID`.
   */
  readonly messageId: string | undefined;
  /** Element 0 when it is an integer (known or not), else `undefined`. */
  readonly messageType: number | undefined;
}

export type ParseResult = { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly error: FrameError };

/** Element count per message type; OCPP-J fixes it, so extra or missing elements are a format violation. */
const FRAME_LENGTH: Readonly<Record<MessageType, number>> = {
  [MessageType.Call]: 4,
  [MessageType.CallResult]: 3,
  [MessageType.CallError]: 5,
  [MessageType.CallResultError]: 5,
  [MessageType.Send]: 4,
};

const MESSAGES: Readonly<Record<FrameErrorReason, string>> = {
  'not-json': 'frame is not valid JSON',
  'not-array': 'frame is not a JSON array',
  'bad-message-type': 'messageTypeId is not an integer',
  'unknown-message-type': 'messageTypeId is not a known message type',
  'bad-message-id': `messageId is not a string of 1 to ${MAX_MESSAGE_ID_LENGTH} characters`,
  'bad-length': 'frame has the wrong number of elements for its message type',
  'bad-action': 'action is not a non-empty string',
  'bad-payload': 'payload or errorDetails is not a JSON object',
  'bad-error-code': 'errorCode is not a string',
  'bad-error-description': 'errorDescription is not a string',
};

/** A JSON object: what OCPP requires for payloads and errorDetails (`{}` when empty, never null or an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isMessageType(value: unknown): value is MessageType {
  return value === 2 || value === 3 || value === 4 || value === 5 || value === 6;
}

/**
 * True for a string of 1..36 characters. Characters are counted as Unicode code points, not UTF-16 units, so
 * an id of 36 non-BMP characters is accepted: the spec says "characters", and a proxy should rather forward a
 * frame than reject it on a counting technicality.
 */
export function isValidMessageId(id: string): boolean {
  if (id.length === 0) return false;
  // Fast path: code points never outnumber UTF-16 units, and never fall below half of them.
  if (id.length <= MAX_MESSAGE_ID_LENGTH) return true;
  if (id.length > 2 * MAX_MESSAGE_ID_LENGTH) return false;
  let codePoints = 0;
  for (let i = 0; i < id.length; i++) {
    const unit = id.charCodeAt(i);
    // A high surrogate followed by a low one is one code point; lone surrogates count as one each.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < id.length) {
      const next = id.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    codePoints++;
  }
  return codePoints <= MAX_MESSAGE_ID_LENGTH;
}

/**
 * Parses one OCPP-J text frame. A Buffer is decoded as UTF-8 (invalid sequences become U+FFFD, as `ws` would).
 *
 * Checks, in this order (the first failure wins): valid JSON → array → messageTypeId is an integer → known type
 * (2..6) → message id → element count for the type → action (CALL, SEND) → payload / errorDetails is an object →
 * errorCode → errorDescription. Whether types 5 and 6 are allowed on the link's OCPP version is the caller's
 * decision. errorDescription length is not enforced when reading: the proxy forwards what it is given.
 */
export function parseFrame(data: string | Buffer): ParseResult {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not swallowed: malformed JSON is a result ('not-json'), and the SyntaxError text would only echo the input.
    return failure('not-json', undefined, undefined);
  }
  if (!Array.isArray(json)) return failure('not-array', undefined, undefined);
  // `Array.isArray` narrows to any[]; re-type it so nothing below can use an element unchecked.
  const elements: readonly unknown[] = json;

  const first = elements[0];
  const second = elements[1];
  const messageType = typeof first === 'number' && Number.isInteger(first) ? first : undefined;
  const messageId = typeof second === 'string' && isValidMessageId(second) ? second : undefined;

  if (messageType === undefined) return failure('bad-message-type', messageId, undefined);
  if (!isMessageType(messageType)) return failure('unknown-message-type', messageId, messageType);
  if (messageId === undefined) return failure('bad-message-id', undefined, messageType);
  if (elements.length !== FRAME_LENGTH[messageType]) return failure('bad-length', messageId, messageType);

  switch (messageType) {
    case MessageType.Call:
    case MessageType.Send: {
      const action = elements[2];
      const payload = elements[3];
      if (typeof action !== 'string' || action.length === 0) return failure('bad-action', messageId, messageType);
      if (!isPlainObject(payload)) return failure('bad-payload', messageId, messageType);
      return { ok: true, frame: { type: messageType, id: messageId, action, payload } };
    }
    case MessageType.CallResult: {
      const payload = elements[2];
      if (!isPlainObject(payload)) return failure('bad-payload', messageId, messageType);
      return { ok: true, frame: { type: messageType, id: messageId, payload } };
    }
    case MessageType.CallError:
    case MessageType.CallResultError: {
      const errorCode = elements[2];
      const errorDescription = elements[3];
      const errorDetails = elements[4];
      // Details before code and description: the documented fixed order puts all payload-shape checks first.
      if (!isPlainObject(errorDetails)) return failure('bad-payload', messageId, messageType);
      if (typeof errorCode !== 'string') return failure('bad-error-code', messageId, messageType);
      if (typeof errorDescription !== 'string') return failure('bad-error-description', messageId, messageType);
      return { ok: true, frame: { type: messageType, id: messageId, errorCode, errorDescription, errorDetails } };
    }
  }
}

function failure(
  reason: FrameErrorReason,
  messageId: string | undefined,
  messageType: number | undefined,
): ParseResult {
  return { ok: false, error: { reason, message: MESSAGES[reason], messageId, messageType } };
}

/**
 * Serialises a frame the proxy originates itself (its own CALLs, CALLERRORs for malformed input, …).
 * Never use it to forward: forwarded frames keep their original bytes.
 * Throws a TypeError if a payload cannot be serialised (a BigInt or a cycle): that is a bug in the caller.
 */
export function serializeFrame(frame: Frame): string {
  switch (frame.type) {
    case MessageType.Call:
    case MessageType.Send:
      return JSON.stringify([frame.type, frame.id, frame.action, frame.payload]);
    case MessageType.CallResult:
      return JSON.stringify([frame.type, frame.id, frame.payload]);
    case MessageType.CallError:
    case MessageType.CallResultError:
      return JSON.stringify([
        frame.type,
        frame.id,
        frame.errorCode,
        truncateDescription(frame.errorDescription),
        frame.errorDetails,
      ]);
  }
}

/**
 * Cuts a description to 255 characters (code points), never splitting a surrogate pair, so a frame the proxy
 * sends is always within the limit of OCPP 2.0.1 Part 4 §4.2.3 — even when the text came from an exception.
 */
export function truncateDescription(description: string): string {
  if (description.length <= MAX_ERROR_DESCRIPTION_LENGTH) return description;
  let end = 0;
  for (let codePoints = 0; codePoints < MAX_ERROR_DESCRIPTION_LENGTH && end < description.length; codePoints++) {
    const unit = description.charCodeAt(end);
    const next = description.charCodeAt(end + 1);
    end += unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return description.slice(0, end);
}

/** Builds (does not transmit) a CALL. */
export function call(id: string, action: string, payload: Record<string, unknown> = {}): CallFrame {
  return { type: MessageType.Call, id, action, payload };
}

/** Builds (does not transmit) a CALLRESULT. */
export function callResult(id: string, payload: Record<string, unknown> = {}): CallResultFrame {
  return { type: MessageType.CallResult, id, payload };
}

/**
 * Builds (does not transmit) a CALLERROR. The description is cut to 255 characters; details default to `{}`,
 * which OCPP requires when there are none. Pick `errorCode` with `errorCodeFor(version, kind)` so it is spelt
 * the way the link's version spells it.
 */
export function callError(
  id: string,
  errorCode: string,
  errorDescription: string,
  errorDetails: Record<string, unknown> = {},
): CallErrorFrame {
  return {
    type: MessageType.CallError,
    id,
    errorCode,
    errorDescription: truncateDescription(errorDescription),
    errorDetails,
  };
}

/** Builds (does not transmit) an OCPP 2.1 CALLRESULTERROR; same rules as `callError`. */
export function callResultError(
  id: string,
  errorCode: string,
  errorDescription: string,
  errorDetails: Record<string, unknown> = {},
): CallResultErrorFrame {
  return {
    type: MessageType.CallResultError,
    id,
    errorCode,
    errorDescription: truncateDescription(errorDescription),
    errorDetails,
  };
}

/** Builds (does not transmit) an OCPP 2.1 SEND. */
export function send(id: string, action: string, payload: Record<string, unknown> = {}): SendFrame {
  return { type: MessageType.Send, id, action, payload };
}
