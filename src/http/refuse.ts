import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** Statuses the proxy answers with on its own account (a primary's refusal passes the primary's status on). */
export const HttpStatus = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  RequestTimeout: 408,
  BadGateway: 502,
  ServiceUnavailable: 503,
  GatewayTimeout: 504,
} as const;

/**
 * Answers an upgrade request with a plain HTTP error and closes the socket:
 * how a charger is refused before any 101 (identity, handshake, primary refusal).
 */
export function refuseUpgrade(socket: Duplex, status: number, body: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const text = `${body}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
  // `end` flushes, then the peer may linger; do not wait for it.
  socket.once('finish', () => socket.destroy());
}
