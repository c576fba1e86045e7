#!/usr/bin/env node
/**
 * The container HEALTHCHECK (`node dist/healthcheck.js`): asks the running proxy's `GET /healthz` and exits 0
 * when it answers 200, 1 otherwise. No curl needed in the image.
 *
 * It does not work the port out from the configuration, which it cannot fully see (flags are the proxy's own
 * argv): the proxy writes the address it really bound to `$RUNTIME_DIR/listen-<pid>.json` (the image sets
 * RUNTIME_DIR), and this probes every address written there by a process that is still running. So
 * `--port`, `PORT`, a config file's `port` and `--port 0` are all probed right, and a primary given only as a
 * flag needs nothing here.
 */
import { request, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readListenRecords, RUNTIME_DIR_ENV, type ListenRecord } from './runtime/listen-file.js';

const EXIT_HEALTHY = 0;
const EXIT_UNHEALTHY = 1;
/** Well under Docker's default HEALTHCHECK timeout (30 s) and the Dockerfile's (5 s). */
const TIMEOUT_MS = 3000;
const HTTP_OK = 200;
/** Listen addresses that mean "every interface": probe loopback instead. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);
const LOOPBACK = '127.0.0.1';

function probeHost(address: string): string {
  return WILDCARD_HOSTS.has(address) ? LOOPBACK : address;
}

function unhealthy(message: string): number {
  process.stderr.write(`healthcheck: ${message}\n`);
  return EXIT_UNHEALTHY;
}

async function check(env: NodeJS.ProcessEnv): Promise<number> {
  const dir = env[RUNTIME_DIR_ENV];
  if (dir === undefined || dir === '') {
    return unhealthy(`${RUNTIME_DIR_ENV} is not set, so there is no record of where the proxy listens (the image sets it)`);
  }
  let records: ListenRecord[];
  let skipped: string[];
  try {
    ({ live: records, skipped } = readListenRecords(dir));
  } catch (error) {
    return unhealthy(`cannot read ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  for (const line of skipped) process.stderr.write(`healthcheck: skipped ${line}\n`);
  if (records.length === 0) return unhealthy(`no running ocpp-splitter has written its address to ${dir} (still starting, or stopped)`);

  // Cluster workers share one port: ask each distinct address once.
  const endpoints = new Map(records.map((record) => [`${probeHost(record.address)}|${String(record.port)}`, record]));
  const results = await Promise.all([...endpoints.values()].map((record) => probe(probeHost(record.address), record.port, record.tls === true)));
  return results.every((ok) => ok) ? EXIT_HEALTHY : EXIT_UNHEALTHY;
}

/**
 * `GET /healthz` at host:port (over TLS when the proxy's port speaks it); prints the status and body (or why
 * there was none).
 */
function probe(host: string, port: number, tls: boolean): Promise<boolean> {
  const where = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${String(port)}/healthz`;
  // The certificate is not checked: it names the proxy's public host, not the loopback address probed here, and
  // this asks the process it started beside whether it is up, nothing that needs to be kept secret.
  const options = { host, port, path: '/healthz', method: 'GET', timeout: TIMEOUT_MS };
  return new Promise((resolve) => {
    const onResponse = (response: IncomingMessage): void => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        process.stdout.write(`${String(response.statusCode)} ${body}\n`);
        resolve(response.statusCode === HTTP_OK);
      });
    };
    const req = tls ? httpsRequest({ ...options, rejectUnauthorized: false }, onResponse) : request(options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${String(TIMEOUT_MS)} ms`)));
    req.on('error', (error) => {
      process.stderr.write(`healthcheck: ${where}: ${error.message}\n`);
      resolve(false);
    });
    req.end();
  });
}

void check(process.env).then((code) => process.exit(code));
