/**
 * `npm run demo`: the real proxy (createProxy, a schema-validated config, a temporary data directory) between
 * a simulated charger and two demo CSMSs, all in this process on loopback. The library part: starts everything,
 * runs the scenario, and closes everything; the process part (flags, signals, exit codes) is main.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

export interface DemoOptions {
  /** Receives each line of the trace. */
  readonly write: (line: string) => void;
  readonly color: boolean;
  /** The proxy's port; 0 (default) picks a free one. */
  readonly port?: number;
  /** The level of the proxy's own log lines shown (summarised) in the trace; default `info`. */
  readonly logLevel?: LogLevel;
  /** Pause between scenario steps, for people; default 0. */
  readonly pauseMs?: number;
}

export interface Demo {
  /** `ws://127.0.0.1:<port>`: chargers connect to `<proxyUrl>/<charge point id>`. */
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
      host: '127.0.0.1',
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
    const proxyUrl = `ws://127.0.0.1:${address.port}`;

    trace.line(`  proxy      ${proxyUrl}/<charge point id>   (chargers connect here)`);
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
          url: `${proxyUrl}/${DEMO_CHARGER_ID}`,
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
