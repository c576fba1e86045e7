import { isIP } from 'node:net';

/** Longest request path kept for a log line: a charger URL is short, a probe's may not be. */
const MAX_LOGGED_PATH_LENGTH = 256;

/**
 * The client address a reverse proxy in front of ocpp-splitter saw: the last entry of `X-Forwarded-For`, the
 * one that proxy added itself. Earlier entries were written by whoever connected to it, and could be anything,
 * so they are not taken. Undefined unless the entry is an IP address (with or without a port).
 */
export function forwardedClientAddress(header: string | readonly string[] | undefined): string | undefined {
  // Node joins repeated X-Forwarded-For headers with ", ": the last one is still the nearest proxy's.
  const value = typeof header === 'string' ? header : header?.join(',');
  const last = value?.split(',').at(-1)?.trim();
  if (last === undefined || last === '') return undefined;
  return ipWithoutPort(last);
}

function ipWithoutPort(entry: string): string | undefined {
  if (isIP(entry) !== 0) return entry;
  // "[2001:db8::1]:4711" and "192.0.2.7:4711", as some proxies write them.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry)?.[1];
  if (bracketed !== undefined) return isIP(bracketed) === 6 ? bracketed : undefined;
  const withPort = /^([^:]+):\d+$/.exec(entry)?.[1];
  return withPort !== undefined && isIP(withPort) === 4 ? withPort : undefined;
}

/** A socket's peer address as people write it: a dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d. */
export function peerAddress(remote: string | undefined): string | undefined {
  return remote?.startsWith('::ffff:') === true && remote.includes('.') ? remote.slice('::ffff:'.length) : remote;
}

/**
 * The path of a request URL for a log line: no query string (CSMS tokens travel there), no userinfo, bounded
 * in length. Kept percent-encoded, as the charger sent it.
 */
export function pathForLog(url: string | undefined): string {
  const path = (url ?? '/').split(/[?#]/, 1)[0] ?? '/';
  // An absolute-form request target ("ws://user:pass@host/x") keeps only its path.
  const withoutOrigin = /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? path.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '') || '/' : path;
  return withoutOrigin.length > MAX_LOGGED_PATH_LENGTH ? `${withoutOrigin.slice(0, MAX_LOGGED_PATH_LENGTH)}…` : withoutOrigin;
}
