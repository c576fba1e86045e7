/**
 * `npm run demo`: the real proxy (createProxy, a schema-validated config, a temporary data directory) between
 * a simulated charger and two demo CSMSs, all in this process on loopback. The library part: starts everything,
 * runs the scenario, and closes everything; the process part (flags, signals, exit codes) is main.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { configSchema, type Config, type LogLevel } from '../config/schema.js';
import { createLogger } from '../logging/logger.js';
import { createProxy, type Proxy } from '../proxy.js';
import { connectDemoCharger, type DemoCharger } from './charger.js';
import { startDemoCsms, type DemoCsms } from './csms.js';
import { runScenario, withinTime, type ScenarioResult } from './scenario.js';
import { Trace, type WireRecord } from './trace.js';

export const DEMO_CHARGER_ID = 'DEMO-CP-001';
const PRIMARY_FIRST_TRANSACTION_ID = 1001;
const SECONDARY_FIRST_TRANSACTION_ID = 5001;
const ANSWER_TIMEOUT_MS = 10_000;
const STEP_TIMEOUT_MS = 15_000;
/** Where the proxy listens unless told otherwise: only this machine can connect. */
export const DEMO_DEFAULT_HOST = '127.0.0.1';
/** Listen addresses that mean "every interface". */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

export interface DemoOptions {
  /** Receives each line of the trace. */
  readonly write: (line: string) => void;
  readonly color: boolean;
  /** The proxy's port; 0 (default) picks a free one. */
  readonly port?: number;
  /** The proxy's listen address; default 127.0.0.1. `0.0.0.0` (or `::`) lets a real charger on the network connect. */
  readonly host?: string;
  /** The level of the proxy's own log lines shown (summarised) in the trace; default `info`. */
  readonly logLevel?: LogLevel;
  /** Pause between scenario steps, for people; default 0. */
  readonly pauseMs?: number;
}

export interface Demo {
  /**
   * `ws://<host>:<port>`: chargers connect to `<proxyUrl>/<charge point id>`. For "all interfaces" it names
   * this machine's first network address (loopback if it has none), the one to give a real charger.
   */
  readonly proxyUrl: string;
  readonly proxy: Proxy;
  readonly config: Readonly<Config>;
  /** Every frame each demo peer sent or received, in order. */
  readonly wire: readonly WireRecord[];
  /** Runs the scenario once with the demo charger (which stays connected afterwards). */
  runScenario(): Promise<ScenarioResult>;
  /** Closes the charger, the proxy (gracefully), the demo CSMSs, and removes the data directory. Idempotent. */
  close(): Promise<void>;
}

/** Starts the demo CSMSs and the proxy; the scenario runs when asked. */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const trace = new Trace({ write: options.write, color: options.color, mainIdentity: DEMO_CHARGER_ID });
  const wire: WireRecord[] = [];
  const opened: Array<() => Promise<void> | void> = [];
  let charger: DemoCharger | undefined;
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await charger?.close();
      while (opened.length > 0) await opened.pop()?.();
      trace.flush();
    })());

  trace.line();
  trace.line(trace.paint('bold', 'ocpp-splitter demo: a charger, the proxy, a primary and a secondary CSMS, all on this machine'));
  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-demo-'));
    opened.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const csmsOptions = { trace, wire, answerTimeoutMs: ANSWER_TIMEOUT_MS };
    const primary: DemoCsms = await startDemoCsms({ ...csmsOptions, role: 'primary', firstTransactionId: PRIMARY_FIRST_TRANSACTION_ID });
    opened.push(() => primary.close());
    const secondary: DemoCsms = await startDemoCsms({ ...csmsOptions, role: 'secondary', firstTransactionId: SECONDARY_FIRST_TRANSACTION_ID });
    opened.push(() => secondary.close());

    const config = configSchema.parse({
      port: options.port ?? 0,
      host: options.host ?? DEMO_DEFAULT_HOST,
      primary_csms_url: primary.url,
      secondary_csms: [{ url: secondary.url, name: 'demo-secondary' }],
      data_dir: dataDir,
      log_level: options.logLevel ?? 'info',
      // The demo CSMSs are local and answer at once; a lost secondary is back within a second.
      secondary_reconnect_delay_ms: 1000,
    });
    const logger = createLogger(config.log_level, {
      write(chunk: string) {
        for (const text of chunk.split('\n')) {
          if (text.trim() === '') continue;
          const parsed: unknown = JSON.parse(text);
          if (typeof parsed === 'object' && parsed !== null) trace.proxyLog(Object.fromEntries(Object.entries(parsed)));
        }
      },
    });
    const proxy = createProxy(config, { logger });
    opened.push(() => proxy.close());
    const address: AddressInfo = await proxy.listen();
    const host = config.host ?? DEMO_DEFAULT_HOST;
    const proxyUrl = `ws://${urlHost(WILDCARD_HOSTS.has(host) ? firstNetworkAddress() : host)}:${address.port}`;
    // The demo's own charger is on this machine: over loopback when the proxy listens everywhere.
    const localUrl = WILDCARD_HOSTS.has(host) ? `ws://${DEMO_DEFAULT_HOST}:${address.port}` : proxyUrl;

    const reach = WILDCARD_HOSTS.has(host) ? 'all interfaces: chargers on your network connect here' : 'chargers connect here';
    trace.line(`  proxy      ${proxyUrl}/<charge point id>   (${reach})`);
    trace.line(`  primary    ${primary.url}   (in full control of the charger)`);
    trace.line(`  secondary  ${secondary.url}   (gets a mirror of the charger's messages)`);
    trace.line(trace.paint('dim', '  Each line is one frame on one leg, printed by the demo peer at that end of it.'));

    return {
      proxyUrl,
      proxy,
      config,
      wire,
      async runScenario() {
        charger = await connectDemoCharger({
          url: `${localUrl}/${DEMO_CHARGER_ID}`,
          identity: DEMO_CHARGER_ID,
          trace,
          wire,
          answerTimeoutMs: ANSWER_TIMEOUT_MS,
        });
        const [primaryPeer, secondaryPeer] = await Promise.all([
          withinTime('the primary connection', primary.connection(DEMO_CHARGER_ID), STEP_TIMEOUT_MS),
          withinTime('the secondary connection', secondary.connection(DEMO_CHARGER_ID), STEP_TIMEOUT_MS),
        ]);
        const result = await runScenario({
          charger,
          primary: primaryPeer,
          secondary: secondaryPeer,
          trace,
          wire,
          stepTimeoutMs: STEP_TIMEOUT_MS,
          pauseMs: options.pauseMs ?? 0,
        });
        const passed = result.checks.filter((item) => item.ok).length;
        trace.line();
        trace.line(
          result.ok
            ? trace.paint('green', `Demo complete: ${passed} of ${result.checks.length} checks passed.`)
            : trace.paint('red', `Demo failed: ${passed} of ${result.checks.length} checks passed.`),
        );
        return result;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A host as it goes in a URL: IPv6 addresses in brackets. */
function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** This machine's first non-loopback IPv4 address, the one a charger on the same network would use. */
function firstNetworkAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (external !== undefined) return external.address;
  }
  return DEMO_DEFAULT_HOST;
}
