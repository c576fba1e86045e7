#!/usr/bin/env node
/**
 * The container HEALTHCHECK (`node dist/healthcheck.js`): asks the running proxy's `GET /healthz` and exits 0
 * when it answers 200, 1 otherwise. It resolves the configuration exactly as the proxy does (flags aside), so
 * it probes the port set in the config file or PORT without being told. No curl needed in the image.
 */
import { request } from 'node:http';
import { resolveConfig } from './config/load.js';

const EXIT_HEALTHY = 0;
const EXIT_UNHEALTHY = 1;
/** Well under Docker's default HEALTHCHECK timeout (30 s) and the Dockerfile's (5 s). */
const TIMEOUT_MS = 3000;
const HTTP_OK = 200;
/** Listen addresses that mean "every interface": probe loopback instead. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

function probeHost(host: string | undefined): string {
  return host === undefined || WILDCARD_HOSTS.has(host) ? '127.0.0.1' : host;
}

function check(): Promise<number> {
  let port: number;
  let host: string;
  try {
    const { config } = resolveConfig({ flags: {}, env: process.env });
    port = config.port;
    host = probeHost(config.host);
  } catch (error) {
    process.stderr.write(`healthcheck: ${error instanceof Error ? error.message : String(error)}\n`);
    return Promise.resolve(EXIT_UNHEALTHY);
  }
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/healthz', method: 'GET', timeout: TIMEOUT_MS }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        process.stdout.write(`${String(response.statusCode)} ${body}\n`);
        resolve(response.statusCode === HTTP_OK ? EXIT_HEALTHY : EXIT_UNHEALTHY);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', (error) => {
      process.stderr.write(`healthcheck: http://${host}:${port}/healthz: ${error.message}\n`);
      resolve(EXIT_UNHEALTHY);
    });
    req.end();
  });
}

void check().then((code) => process.exit(code));
