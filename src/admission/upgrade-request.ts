import type { IncomingMessage } from 'node:http';

/** RFC 6455 §4.1: the key is 16 random bytes, base64-encoded. */
const WEBSOCKET_KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;
/** RFC 7230 §3.2.6 token characters, the syntax of a sub-protocol name. */
const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export type UpgradeCheck =
  | { readonly ok: true; readonly subprotocols: readonly string[] }
  | { readonly ok: false; readonly status: number; readonly reason: string; readonly headers?: Record<string, string> };

/**
 * Checks that a request is a WebSocket upgrade the proxy can complete, before it
 * dials anything upstream: the same checks `ws` makes when it completes the
 * upgrade, done early so garbage never costs a connection to the primary.
 */
export function checkUpgradeRequest(req: IncomingMessage): UpgradeCheck {
  if (req.method !== 'GET') return { ok: false, status: 405, reason: 'WebSocket upgrade must use GET' };
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
    return { ok: false, status: 400, reason: 'missing or invalid Upgrade header' };
  }
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !WEBSOCKET_KEY_PATTERN.test(key.trim())) {
    return { ok: false, status: 400, reason: 'missing or invalid Sec-WebSocket-Key header' };
  }
  const version = req.headers['sec-websocket-version'];
  if (version !== '13') {
    return {
      ok: false,
      status: 426,
      reason: 'unsupported WebSocket version',
      headers: { 'Sec-WebSocket-Version': '13' },
    };
  }
  const subprotocols = parseSubprotocols(req.headers['sec-websocket-protocol']);
  if (subprotocols === undefined) {
    return { ok: false, status: 400, reason: 'invalid Sec-WebSocket-Protocol header' };
  }
  return { ok: true, subprotocols };
}

/**
 * Parses the charger's offered sub-protocols, keeping its order of preference
 * (the proxy offers the primary exactly this list). Returns undefined when the
 * header is malformed: an empty item, a non-token, or a duplicate.
 */
export function parseSubprotocols(header: string | undefined): readonly string[] | undefined {
  if (header === undefined) return [];
  const offered: string[] = [];
  for (const item of header.split(',')) {
    const name = item.trim();
    if (!TOKEN_PATTERN.test(name) || offered.includes(name)) return undefined;
    offered.push(name);
  }
  return offered;
}
