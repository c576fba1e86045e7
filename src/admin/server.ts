/**
 * The admin listener: Prometheus `/metrics`, the status API under `/api/`, the live event stream and the
 * dashboard, on a port of its own (never the chargers'). Built on the proxy's public surface and the
 * diagnostics channels only: the proxy works the same without it.
 *
 * Who may use it (see `authorize`):
 * - with `admin_token`, every API and metrics request carries `Authorization: Bearer <token>`;
 * - peers in `admin_trusted_addresses` (Home Assistant's ingress proxy) need no token;
 * - without a token, the listener binds loopback only (config/load.ts refuses anything else), and a request
 *   must name a loopback host: a web page that rebinds its DNS name to 127.0.0.1 is refused (DNS rebinding).
 * A POST whose Origin is another site is refused (CSRF), and the dashboard's own files are public: they hold
 * no data, and ask for the token when the API answers 401.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';
import { isLoopbackHost } from '../config/load.js';
import type { Logger } from '../logging/logger.js';
import type { Proxy } from '../proxy.js';
import { LocalBackend, type AdminBackend } from './backend.js';
import { openApiDocument } from './openapi.js';
import { EventStreams } from './event-stream.js';

export interface AdminServerOptions {
  /** This process's proxy (served by a LocalBackend)… */
  readonly proxy?: Proxy;
  /** …or any other backend (the cluster primary's, which asks its workers). */
  readonly backend?: AdminBackend;
  readonly config: Readonly<Config>;
  readonly log: Logger;
  /** Where the built dashboard is (index.html, app.js, app.css); by default dist/dashboard. */
  readonly dashboardDir?: string;
}

export interface AdminServer {
  listen(): Promise<AddressInfo>;
  address(): AddressInfo | undefined;
  /** Ends the event streams and closes the listener (and the backend); idempotent. */
  close(): Promise<void>;
  readonly backend: AdminBackend;
  /** Every API route as `GET /api/status` (openapi.test.ts checks these against the OpenAPI document). */
  readonly endpoints: readonly string[];
}

interface RouteContext {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly params: readonly string[];
  readonly query: URLSearchParams;
}

interface Route {
  readonly method: 'GET' | 'POST';
  /** As in openapi.json, e.g. /api/chargers/{id}; openapi.test.ts checks both lists match. */
  readonly path: string;
  readonly handle: (context: RouteContext) => Promise<void> | void;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};
/** The dashboard's page may load only its own files and talk only to this listener; it may be framed by the same origin (ingress). */
const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; object-src 'none'";
const COMMON_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' } as const;
/** A request to the admin listener must not hold a socket for ever (slowloris). */
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;

export function defaultDashboardDir(): string {
  // src/admin → dist/dashboard, and dist/admin → dist/dashboard: the build puts it there either way.
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.includes(`${join('dist', 'admin')}`) ? join(here, '..', 'dashboard') : join(here, '..', '..', 'dist', 'dashboard');
}

export function createAdminServer(options: AdminServerOptions): AdminServer {
  const { config, log } = options;
  const backend = backendOf(options);
  const streams = new EventStreams((filter, listener) => backend.live(filter, listener));
  const dashboard = loadDashboard(options.dashboardDir ?? defaultDashboardDir());
  const tokenDigest = config.admin_token === undefined ? undefined : digest(config.admin_token);
  const trusted = new Set(config.admin_trusted_addresses.map(normalizeAddress));
  let closing: Promise<void> | undefined;

  const routes: readonly Route[] = [
    {
      method: 'GET',
      path: '/metrics',
      handle: async ({ response }) => {
        const { contentType, body } = await backend.metrics();
        response.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        response.end(body);
      },
    },
    { method: 'GET', path: '/api/status', handle: async ({ response }) => sendJson(response, 200, await backend.status()) },
    { method: 'GET', path: '/api/chargers', handle: async ({ response }) => sendJson(response, 200, await backend.chargers()) },
    {
      method: 'GET',
      path: '/api/chargers/{id}',
      handle: async ({ response, params }) => {
        const id = params[0] ?? '';
        const detail = await backend.charger(id);
        if (detail === undefined) sendError(response, 404, `charger ${JSON.stringify(id)} is not connected`);
        else sendJson(response, 200, detail);
      },
    },
    {
      method: 'POST',
      path: '/api/chargers/{id}/disconnect',
      handle: async ({ response, params }) => {
        const id = params[0] ?? '';
        if (!(await backend.disconnect(id))) sendError(response, 404, `charger ${JSON.stringify(id)} is not connected`);
        else sendJson(response, 202, { id, disconnected: true });
      },
    },
    { method: 'GET', path: '/api/secondaries', handle: async ({ response }) => sendJson(response, 200, await backend.secondaries()) },
    { method: 'POST', path: '/api/secondaries/{name}/pause', handle: ({ response, params }) => pauseSecondary(response, params[0] ?? '', true) },
    { method: 'POST', path: '/api/secondaries/{name}/resume', handle: ({ response, params }) => pauseSecondary(response, params[0] ?? '', false) },
    {
      method: 'GET',
      path: '/api/events',
      handle: ({ request, response, query }) => {
        if (request.method === 'HEAD') {
          // Only the headers: a HEAD must not hold one of the few stream slots.
          response.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' });
          response.end();
          return;
        }
        const opened = streams.open(request, response, { charger: query.get('charger') ?? undefined, leg: query.get('leg') ?? undefined });
        if (!opened) sendError(response, 503, 'too many event streams are open; close one and try again');
      },
    },
    { method: 'GET', path: '/api/openapi.json', handle: ({ response }) => sendJson(response, 200, openApiDocument()) },
  ];
  const matchers = routes.map((route) => ({ route, pattern: pathPattern(route.path) }));

  async function pauseSecondary(response: ServerResponse, name: string, paused: boolean): Promise<void> {
    if (!(await backend.setPaused(name, paused))) {
      sendError(response, 404, `no secondary is named ${JSON.stringify(name)}`);
      return;
    }
    log.info({ secondary: name }, paused ? 'secondary paused through the admin API' : 'secondary resumed through the admin API');
    sendJson(response, 200, { name, paused });
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error({ err: error, path: pathOf(request) }, 'admin request failed');
      if (!response.headersSent) sendError(response, 500, 'internal error; see the proxy log');
      else response.destroy();
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://admin.invalid');
    const path = url.pathname;
    if (!path.startsWith('/api/') && path !== '/metrics') {
      serveDashboard(request, response, path);
      return;
    }
    const denied = authorize(request);
    if (denied !== undefined) {
      sendError(response, denied.status, denied.message, denied.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="ocpp-splitter"' } : {});
      return;
    }
    for (const { route, pattern } of matchers) {
      const match = pattern.exec(path);
      if (match === null) continue;
      if (request.method !== route.method && !(route.method === 'GET' && request.method === 'HEAD')) {
        sendError(response, 405, `use ${route.method} for ${route.path}`, { Allow: route.method });
        return;
      }
      let params: string[];
      try {
        params = match.slice(1).map((segment) => decodeURIComponent(segment));
      } catch {
        sendError(response, 400, 'malformed percent-encoding in the path');
        return;
      }
      await route.handle({ request, response, params, query: url.searchParams });
      return;
    }
    sendError(response, 404, `no such endpoint: ${path} (see /api/openapi.json)`);
  }

  /** Undefined when the request may go on; otherwise why not. */
  function authorize(request: IncomingMessage): { status: number; message: string } | undefined {
    const peer = normalizeAddress(request.socket.remoteAddress ?? '');
    const isTrusted = trusted.has(peer);
    // Behind a trusted reverse proxy (ingress) the Host is the proxy's choice: only the browser's own verdict counts there.
    if (request.method === 'POST' && crossSite(request, !isTrusted)) return { status: 403, message: 'cross-site requests are refused' };
    if (isTrusted) return undefined;
    if (tokenDigest !== undefined) {
      const given = bearerToken(request);
      if (given !== undefined && timingSafeEqual(digest(given), tokenDigest)) return undefined;
      return { status: 401, message: 'a valid Bearer token is required (admin_token)' };
    }
    // No token: only this machine, by a loopback name (config/load.ts refuses a wider bind without a token).
    if (!isLoopbackHost(peer)) return { status: 401, message: 'a valid Bearer token is required (admin_token)' };
    if (!isLoopbackHost(hostName(request.headers.host))) return { status: 403, message: 'the Host header must name this machine (localhost, 127.0.0.1 or ::1)' };
    return undefined;
  }

  function serveDashboard(request: IncomingMessage, response: ServerResponse, path: string): void {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendError(response, 405, 'the dashboard is read with GET', { Allow: 'GET' });
      return;
    }
    const name = path === '/' ? 'index.html' : path.slice(1);
    const file = dashboard.get(name);
    if (file === undefined) {
      if (dashboard.size === 0) {
        response.writeHead(503, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
        response.end('The dashboard is not built: run `npm run build`. The API is at /api/status, metrics at /metrics.\n');
        return;
      }
      sendError(response, 404, `no such file: ${path}`);
      return;
    }
    response.writeHead(200, {
      ...COMMON_HEADERS,
      'Content-Type': file.type,
      'Content-Security-Policy': DASHBOARD_CSP,
      'Cache-Control': name === 'index.html' ? 'no-cache' : 'public, max-age=300',
      'Content-Length': file.body.length,
    });
    response.end(request.method === 'HEAD' ? undefined : file.body);
  }

  return {
    backend,
    endpoints: routes.map((route) => `${route.method} ${route.path}`),
    address() {
      const address = server.address();
      return address !== null && typeof address === 'object' ? address : undefined;
    },
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: config.admin_port, host: config.admin_host }, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          log.info({ admin_host: config.admin_host, admin_port: address.port, token: tokenDigest !== undefined, trusted_addresses: [...trusted] }, 'admin listener ready (dashboard, /api, /metrics)');
          resolve(address);
        });
      });
    },
    close() {
      closing ??= (async () => {
        streams.close();
        backend.close();
        await new Promise<void>((resolve) => {
          if (!server.listening) resolve();
          else server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

function backendOf(options: AdminServerOptions): AdminBackend {
  if (options.backend !== undefined) return options.backend;
  if (options.proxy === undefined) throw new TypeError('createAdminServer needs a proxy or a backend');
  return new LocalBackend({ proxy: options.proxy, config: options.config, log: options.log });
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...COMMON_HEADERS, ...headers, 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
  response.end(response.req.method === 'HEAD' ? undefined : text);
}

function sendError(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(response, status, { error: message }, headers);
}

/** `/api/chargers/{id}` → a pattern with one capture per parameter; a parameter is one path segment. */
function pathPattern(path: string): RegExp {
  const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[a-z]+\}/g, '([^/]+)');
  return new RegExp(`^${source}$`);
}

function pathOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?', 1)[0] ?? '/';
}

function bearerToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Equal-length digests, so the comparison takes the same time whatever the given token's length. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A browser's POST from another site: its Sec-Fetch-Site (or Origin, against Host) says so. curl sends neither. */
function crossSite(request: IncomingMessage, compareOrigin: boolean): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  if (!compareOrigin) return false;
  if (origin === undefined) return false;
  if (!URL.canParse(origin)) return true;
  return new URL(origin).host !== request.headers.host;
}

/** The host of a Host header, without its port and brackets. */
function hostName(host: string | undefined): string {
  if (host === undefined) return '';
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** IPv4-mapped IPv6 (::ffff:1.2.3.4) as plain IPv4, so a trusted address matches either way. */
function normalizeAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice('::ffff:'.length) : lower;
}

interface DashboardFile {
  readonly body: Buffer;
  readonly type: string;
}

/** The built dashboard's files, read once; empty when it was not built. */
function loadDashboard(dir: string): Map<string, DashboardFile> {
  const files = new Map<string, DashboardFile>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    const type = CONTENT_TYPES[extname(name)];
    if (type === undefined) continue;
    try {
      files.set(name, { body: readFileSync(join(dir, name)), type });
    } catch {
      // A directory or an unreadable file is simply not served.
    }
  }
  return files;
}
