/**
 * One-line descriptions of frames for debug logs, e.g.
 *   [CALL] BootNotification (abc123) {"chargePointVendor":"X",...}
 *   [CALLRESULT] (abc123) {"status":"Accepted",...}
 *   [CALLERROR] (abc123) GenericError "description",{}
 *   [BINARY] 123 bytes
 *   [INVALID] bad-message-id [2,"",...
 *
 * The body is the raw text of the frame after its head, as received — never re-serialised, so the log shows
 * exactly what was forwarded (whitespace and key order included). The head comes from `scanFrameHead`, and
 * for a Buffer only the bytes that can appear in the output are decoded as UTF-8.
 *
 * A body that may carry credentials is never shown, by the one rule of credentials.ts: the action, and what
 * the whole frame names, whatever its message id (an invalid one no longer lets a ChangeConfiguration's
 * AuthorizationKey through). That rule reads every frame once: the price of a debug line.
 */

import { MessageType, parseFrame } from '../ocpp/frame.js';
import { mayCarryCredentials } from './credentials.js';
import type { Frame } from '../ocpp/frame.js';
import { readStringToken, scanFrameHeadWithBody, skipWhitespace } from '../ocpp/scan.js';
import type { FrameHeadWithBody } from '../ocpp/scan.js';

const LABELS: Readonly<Record<MessageType, string>> = {
  [MessageType.Call]: 'CALL',
  [MessageType.CallResult]: 'CALLRESULT',
  [MessageType.CallError]: 'CALLERROR',
  [MessageType.CallResultError]: 'CALLRESULTERROR',
  [MessageType.Send]: 'SEND',
};

const ELLIPSIS = '…';
const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
/**
 * Cap for the action and errorCode names in a line. OCPP names are under 40 characters; the cap only stops a
 * garbage frame from flooding the log through its head. Independent of `maxBodyLength`, which is about bodies.
 */
const MAX_NAME_LENGTH = 64;
/** A UTF-16 unit comes from at most 3 UTF-8 bytes (a 4-byte sequence gives 2 units; an invalid one, ≥ 1). */
const MAX_UTF8_BYTES_PER_UNIT = 3;

const REDACTED_BODY = '[body not logged: may carry credentials]';

/**
 * Describes one frame for a debug log. `maxBodyLength` caps the body (and the raw text of an invalid frame) in
 * UTF-16 units, marking a cut with a trailing `…`; 0 (or anything not a positive number) means no cap.
 * Never throws, whatever the input.
 */
export function describeFrame(data: Buffer | string, isBinary: boolean, maxBodyLength: number): string {
  const limit = Number.isFinite(maxBodyLength) && maxBodyLength > 0 ? Math.floor(maxBodyLength) : 0;
  if (isBinary) {
    const bytes = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
    return `[BINARY] ${bytes} bytes`;
  }

  const head = scanFrameHeadWithBody(data);
  if (head !== undefined) return describeScanned(data, head, limit);

  // Only now pay for a full parse: to name what is wrong, or for a valid frame the scanner does not read
  // (a type written as `2.0`, say), whose raw text is then shown whole.
  const result = parseFrame(data);
  const action = result.ok && 'action' in result.frame ? result.frame.action : undefined;
  const raw = mayCarryCredentials(data, action) ? REDACTED_BODY : excerpt(data, 0, data.length, limit);
  if (!result.ok) return join(`[INVALID] ${result.error.reason}`, raw);
  return join(describeParsedHead(result.frame), raw);
}

function describeScanned(data: Buffer | string, head: FrameHeadWithBody, limit: number): string {
  const bodyEnd = endOfBody(data, head.bodyStart);
  const label = `[${LABELS[head.type]}]`;
  const redacted = mayCarryCredentials(data, head.action);
  switch (head.type) {
    case MessageType.Call:
    case MessageType.Send:
      return join(
        `${label} ${cut(head.action ?? '', MAX_NAME_LENGTH, false)} (${head.id})`,
        redacted ? REDACTED_BODY : excerpt(data, head.bodyStart, bodyEnd, limit),
      );
    case MessageType.CallResult:
      return join(`${label} (${head.id})`, redacted ? REDACTED_BODY : excerpt(data, head.bodyStart, bodyEnd, limit));
    case MessageType.CallError:
    case MessageType.CallResultError: {
      // The scanner stops at the errorCode's opening quote; read the code so the line leads with it.
      const code = readStringToken(data, head.bodyStart);
      if (code === undefined) return join(`${label} (${head.id})`, redacted ? REDACTED_BODY : excerpt(data, head.bodyStart, bodyEnd, limit));
      let rest = skipWhitespace(data, code.end);
      if (codeAt(data, rest) === COMMA) rest = skipWhitespace(data, rest + 1);
      return join(
        `${label} (${head.id}) ${cut(code.value, MAX_NAME_LENGTH, false)}`,
        redacted ? REDACTED_BODY : excerpt(data, rest, Math.max(rest, bodyEnd), limit),
      );
    }
  }
}

function describeParsedHead(frame: Frame): string {
  const label = `[${LABELS[frame.type]}]`;
  switch (frame.type) {
    case MessageType.Call:
    case MessageType.Send:
      return `${label} ${cut(frame.action, MAX_NAME_LENGTH, false)} (${frame.id})`;
    case MessageType.CallResult:
      return `${label} (${frame.id})`;
    case MessageType.CallError:
    case MessageType.CallResultError:
      return `${label} (${frame.id}) ${cut(frame.errorCode, MAX_NAME_LENGTH, false)}`;
  }
}

/** Where the body ends: before the closing `]` of the frame and the whitespace around it. */
function endOfBody(data: Buffer | string, bodyStart: number): number {
  let end = data.length;
  while (end > bodyStart && isWhitespace(codeAt(data, end - 1))) end--;
  if (end > bodyStart && codeAt(data, end - 1) === CLOSE_BRACKET) end--;
  while (end > bodyStart && isWhitespace(codeAt(data, end - 1))) end--;
  return end;
}

/** The text of `data` between `start` and `end`, cut to `limit` units; decodes no more of a Buffer than needed. */
function excerpt(data: Buffer | string, start: number, end: number, limit: number): string {
  if (typeof data === 'string') {
    // Slice a little past the limit only, so a 5 MiB frame is not copied to log 200 characters of it.
    const sliceEnd = limit > 0 ? Math.min(end, start + limit + 1) : end;
    return cut(data.slice(start, sliceEnd), limit, sliceEnd < end);
  }
  const byteEnd = limit > 0 ? Math.min(end, start + MAX_UTF8_BYTES_PER_UNIT * limit + 1) : end;
  return cut(data.toString('utf8', start, byteEnd), limit, byteEnd < end);
}

/**
 * Cuts `text` to `limit` UTF-16 units (0 = no limit) and marks a cut with `…`; `moreFollows` says the text is
 * already a prefix. Never splits a surrogate pair, so the log line stays valid Unicode.
 */
function cut(text: string, limit: number, moreFollows: boolean): string {
  if (limit === 0 || (text.length <= limit && !moreFollows)) return text;
  let end = Math.min(limit, text.length);
  const last = text.charCodeAt(end - 1);
  if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + ELLIPSIS;
}

function join(headText: string, body: string): string {
  return body.length === 0 ? headText : `${headText} ${body}`;
}

function isWhitespace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR;
}

function codeAt(data: Buffer | string, i: number): number {
  if (typeof data === 'string') return data.charCodeAt(i);
  return data[i] ?? Number.NaN;
}
