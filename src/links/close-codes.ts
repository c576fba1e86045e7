/** WebSocket close codes the proxy sends (RFC 6455 §7.4.1). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  /** Sent by no one: the peer closed without a close frame (reported locally only). */
  Abnormal: 1006,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
} as const;

/** The longest close reason allowed: a close frame's payload is ≤ 125 bytes, 2 of them the code. */
const MAX_REASON_BYTES = 123;

/**
 * Whether a peer may put `code` in a close frame. 1005, 1006 and 1015 are
 * reserved for local reporting, so a code received as one of those cannot be relayed.
 */
export function isRelayableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/** Trims a close reason to what fits in a close frame without splitting a UTF-8 character. */
export function fitCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let end = reason.length;
  while (end > 0 && Buffer.byteLength(reason.slice(0, end)) > MAX_REASON_BYTES) end -= 1;
  // Do not leave half of a surrogate pair behind.
  const last = reason.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return reason.slice(0, end);
}
