/**
 * A hand-written scanner for the head of an OCPP-J frame: `[` type `,` id [`,` action] — it never reads the
 * payload. The proxy forwards frames byte for byte, so on the hot path it only needs to know what a frame is
 * and whom it answers; a full `JSON.parse` of a large MeterValues payload would be wasted work.
 *
 * Contract with `parseFrame` (proved by the property tests in test/ocpp/scan.test.ts):
 * - On every frame `parseFrame` accepts whose messageTypeId is written as a single digit, the scanner returns
 *   the same type, id and action.
 * - It returns `undefined` for anything it cannot read; the caller then falls back to `parseFrame`. That
 *   includes valid but unusual spellings of the type such as `2.0` or `2e0`.
 * - It may return a head for a frame `parseFrame` rejects, but only when the problem lies beyond the head —
 *   `PAYLOAD_LEVEL_REASONS` below. The head itself is fully checked: the type is known, the id is a valid id
 *   (1..36 characters), the action is a non-empty string, and the next element starts the way it must
 *   (`{` for a payload, `"` for an errorCode), so `[3,"id"]`, `[2,"id","A",null]` and `[2,"id","A"]` are
 *   refused here too.
 */

import { isMessageType, isValidMessageId, MessageType } from './frame.js';
import type { FrameErrorReason } from './frame.js';

export interface FrameHead {
  readonly type: MessageType;
  readonly id: string;
  /** Present for CALL (2) and SEND (6), `undefined` otherwise. */
  readonly action: string | undefined;
}

/** A head plus where the rest of the frame starts, for callers that show or inspect the rest (logging). */
export interface FrameHeadWithBody extends FrameHead {
  /**
   * Offset of the first character of the element after the head — `{` of the payload, or `"` of the errorCode.
   * In bytes for a Buffer, in UTF-16 units for a string.
   */
  readonly bodyStart: number;
}

/**
 * The `parseFrame` reasons a frame can still have when `scanFrameHead` returned a head for it: malformed JSON
 * after the head (including trailing garbage), too many elements (or a CALLERROR cut short), CALLERROR details
 * that are not an object, and a CALLERROR description that is not a string.
 */
export const PAYLOAD_LEVEL_REASONS: ReadonlySet<FrameErrorReason> = new Set<FrameErrorReason>([
  'not-json',
  'bad-length',
  'bad-payload',
  'bad-error-description',
]);

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const DIGIT_ZERO = 0x30;
const FIRST_NON_CONTROL = 0x20;
const FIRST_NON_ASCII = 0x80;
/** Returned by the scanning helpers when the input cannot be read. */
const NOT_FOUND = -1;

// Results of the last `scanHead` / `findStringEnd` call. Module-level scratch (safe: the scanner is synchronous)
// so the hot path allocates nothing but the decoded strings and the head object it returns.
let scannedType: MessageType = MessageType.Call;
let scannedId = '';
let scannedAction: string | undefined;
let stringHasEscape = false;
let stringIsAscii = true;

/** Scans the head of an OCPP-J frame. See the module comment for exactly what it promises. Never throws. */
export function scanFrameHead(data: Buffer | string): FrameHead | undefined {
  if (scanHead(data) === NOT_FOUND) return undefined;
  return { type: scannedType, id: scannedId, action: scannedAction };
}

/** Like `scanFrameHead`, and also tells where the element after the head starts. Never throws. */
export function scanFrameHeadWithBody(data: Buffer | string): FrameHeadWithBody | undefined {
  const bodyStart = scanHead(data);
  if (bodyStart === NOT_FOUND) return undefined;
  return { type: scannedType, id: scannedId, action: scannedAction, bodyStart };
}

/**
 * Reads the JSON string token whose opening quote is at `start`. Returns the decoded string and the offset just
 * past the closing quote, or `undefined` when there is no well-formed string token there. Never throws.
 */
export function readStringToken(data: Buffer | string, start: number): { value: string; end: number } | undefined {
  const close = findStringEnd(data, start);
  if (close === NOT_FOUND) return undefined;
  const value = decodeString(data, start, close);
  return value === undefined ? undefined : { value, end: close + 1 };
}

/** Offset of the first non-whitespace unit at or after `from` (JSON whitespace: space, tab, LF, CR). */
export function skipWhitespace(data: Buffer | string, from: number): number {
  let i = from;
  while (i < data.length) {
    const c = codeAt(data, i);
    if (c !== SPACE && c !== TAB && c !== LF && c !== CR) break;
    i++;
  }
  return i;
}

/** Returns the offset of the first body unit and fills the scratch variables, or NOT_FOUND. */
function scanHead(data: Buffer | string): number {
  let i = skipWhitespace(data, 0);
  if (codeAt(data, i) !== OPEN_BRACKET) return NOT_FOUND;

  i = skipWhitespace(data, i + 1);
  // Only a single digit 2..6 followed by whitespace or a comma: `20`, `2.0`, `2e0` and `-2` all fail the comma
  // check below and go to the full parser, which knows what they mean.
  const type = codeAt(data, i) - DIGIT_ZERO;
  if (!isMessageType(type)) return NOT_FOUND;
  i = skipWhitespace(data, i + 1);
  if (codeAt(data, i) !== COMMA) return NOT_FOUND;

  i = skipWhitespace(data, i + 1);
  const idClose = findStringEnd(data, i);
  if (idClose === NOT_FOUND) return NOT_FOUND;
  const id = decodeString(data, i, idClose);
  if (id === undefined || !isValidMessageId(id)) return NOT_FOUND;
  i = skipWhitespace(data, idClose + 1);
  if (codeAt(data, i) !== COMMA) return NOT_FOUND;
  i = skipWhitespace(data, i + 1);

  let action: string | undefined;
  if (type === MessageType.Call || type === MessageType.Send) {
    const actionClose = findStringEnd(data, i);
    if (actionClose === NOT_FOUND) return NOT_FOUND;
    action = decodeString(data, i, actionClose);
    if (action === undefined || action.length === 0) return NOT_FOUND;
    i = skipWhitespace(data, actionClose + 1);
    if (codeAt(data, i) !== COMMA) return NOT_FOUND;
    i = skipWhitespace(data, i + 1);
  }

  // Peek at the next element so a missing or non-object payload (the common malformed frames) is not reported
  // as a readable frame. CALLERROR details come after code and description and stay unchecked (see
  // PAYLOAD_LEVEL_REASONS).
  const expected = type === MessageType.CallError || type === MessageType.CallResultError ? QUOTE : OPEN_BRACE;
  if (codeAt(data, i) !== expected) return NOT_FOUND;

  scannedType = type;
  scannedId = id;
  scannedAction = action;
  return i;
}

/**
 * Finds the closing quote of the string token that opens at `start`, or NOT_FOUND. Records whether the token
 * has escapes and whether it is all ASCII, so decoding can take the cheapest correct path.
 * Works on UTF-8 bytes as well as UTF-16 units: a quote or backslash byte never occurs inside a multi-byte
 * UTF-8 sequence (continuation bytes are 0x80..0xBF).
 */
function findStringEnd(data: Buffer | string, start: number): number {
  if (codeAt(data, start) !== QUOTE) return NOT_FOUND;
  stringHasEscape = false;
  stringIsAscii = true;
  let i = start + 1;
  while (i < data.length) {
    const c = codeAt(data, i);
    if (c === QUOTE) return i;
    if (c === BACKSLASH) {
      // Skip the escaped unit so `\"` does not end the string; JSON.parse validates the escape when decoding.
      stringHasEscape = true;
      i += 2;
      continue;
    }
    // RFC 8259 §7: control characters must be escaped; JSON.parse would reject the whole frame.
    if (c < FIRST_NON_CONTROL) return NOT_FOUND;
    if (c >= FIRST_NON_ASCII) stringIsAscii = false;
    i++;
  }
  return NOT_FOUND;
}

/** Decodes the string token between the quotes at `open` and `close` (as found by `findStringEnd`). */
function decodeString(data: Buffer | string, open: number, close: number): string | undefined {
  if (stringHasEscape) {
    // Rare (ids are normally UUIDs): let JSON.parse both validate and decode the escapes, so the result is the
    // same as parseFrame's by construction.
    const token = typeof data === 'string' ? data.slice(open, close + 1) : data.toString('utf8', open, close + 1);
    let value: unknown;
    try {
      value = JSON.parse(token);
    } catch {
      // A bad escape (`\x`, `\u12`): not a head we can read. The caller's parseFrame fallback reports it.
      return undefined;
    }
    return typeof value === 'string' ? value : undefined;
  }
  if (typeof data === 'string') return data.slice(open + 1, close);
  // Decoding just these bytes gives the same text as decoding the whole frame, because the range is bounded
  // by quote bytes and an ASCII byte always ends any pending (possibly invalid) UTF-8 sequence.
  return data.toString(stringIsAscii ? 'latin1' : 'utf8', open + 1, close);
}

/** The unit at `i` (byte or UTF-16 unit), or NaN past the end — NaN compares unequal to every constant. */
function codeAt(data: Buffer | string, i: number): number {
  if (typeof data === 'string') return data.charCodeAt(i);
  return data[i] ?? Number.NaN;
}
