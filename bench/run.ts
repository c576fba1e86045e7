/**
 * `npm run bench`: ocpp-splitter against a direct charger → CSMS connection, in
 * the same run, so the ratios hold on a noisy machine.
 *
 *   npm run bench                 full run (≈ 5 min): 1, 50, 1,000 chargers × direct / proxy / proxy + admin /
 *                                 proxy + 2 secondaries / the same + admin / proxy + 2 secondaries with the
 *                                 in-memory store, then the workers run, the locked-store scenario and the
 *                                 connection-scale run
 *   npm run bench -- --smoke      seconds; checks the benchmark still works (part of the test suite)
 *   npm run bench -- --no-admin   without the admin-listener rows
 *   npm run bench -- --admin-sse  also a row with one live event stream (SSE) open: the dashboard's live view
 *   npm run bench -- --json FILE  also write the results there (default bench/results/latest.json)
 *   npm run bench -- --scale N --workers W   the scale run with N chargers on W worker processes
 *   npm run bench -- --scenario locked-store  only the locked-store scenario
 *
 * Topology: three processes — the load generator, the CSMSs (primary and
 * secondaries, one process) and the proxy — on two cores, in two layouts
 * (`--layout`, default both):
 *   shared    generator on core 0; CSMSs and proxy on core 1. Direct and proxied
 *             runs cross between cores equally often, so latency compares fairly;
 *             but the proxy pays for its CPU out of the CSMS's core.
 *   own-core  generator and CSMSs on core 0; the proxy alone on core 1, as when it
 *             is deployed on a machine of its own. Throughput compares fairly; a
 *             direct round trip never leaves core 0, so latency favours direct.
 *
 * Columns: calls/s and p50/p99 round trip as the chargers see them; the proxy's
 * RSS before any charger and per connected charger (after a full GC); and
 * CPU µs/call = (user + system CPU time of the proxy process from the start to
 * the end of the measured window, from its own `process.cpuUsage()` over IPC)
 * ÷ (CALLs answered to the chargers in that window) — all the proxy's work per
 * forwarded call, the mirrored copies and their store writes included. (Earlier
 * results gave "CPU ms per 1,000 frames": half of µs/call.) The workers run sums
 * CPU over the CLI's process tree from /proc, at the kernel's 10 ms tick.
 *
 * "proxy+2sec in-memory" is proxy+2sec with the in-memory mirror store instead of
 * the SQLite file: what durability costs, measured in the same run. Targets per
 * layout and size: CPU/call with 2 secondaries ≤ 1.8× without, and the durable
 * store's CPU/call ≤ the in-memory store's.
 *
 * "+admin" rows run the admin listener as the CLI does by default (admin_port
 * 9001; here an ephemeral port): created before the proxy listens, so it observes
 * every frame through the diagnostics channels, and scraped like Prometheus would,
 * GET /metrics every second from the generator's process, warm-up included. No
 * event stream is open (that is live debugging, not steady state) except in the
 * "+admin+sse" row (`--admin-sse`), where one client reads every event. Target per
 * layout and size: CPU/call with the admin listener ≤ 1.05× without, with no
 * secondary and with 2 durable ones; the table's "CPU ÷ no admin" column gives the
 * ratio for every admin row.
 *
 * Locked store (bench/lib/locked-store.ts): 10 chargers, one CALL each per 20 ms,
 * 2 durable secondaries; after a warm-up another process holds `BEGIN IMMEDIATE`
 * on the proxy's SQLite file for 3 s. PASS/FAIL: charger ↔ primary p99 during the
 * lock < 50 ms; every CALL reaches each secondary, in order, within 30 s.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectFleet, type Fleet, type LoadResult } from './lib/chargers.js';
import { openEventStream, startScraper, type EventStreamClient } from './lib/admin-load.js';
import { describeLockedStore, runLockedStore, type LockedStorePlan, type LockedStoreResult } from './lib/locked-store.js';
import { startCliProxy, startCsmsProcess, startProxyProcess, waitFor, type ProxyProcess } from './lib/processes.js';

const SCENARIOS = ['all', 'locked-store'] as const;

const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    json: { type: 'string' },
    scale: { type: 'string' },
    workers: { type: 'string' },
    'no-scale': { type: 'boolean', default: false },
    /** Comma-separated charger counts, e.g. `--sizes 50`. */
    sizes: { type: 'string' },
    /** `shared`, `own-core` or `both` (see the header). */
    layout: { type: 'string', default: 'both' },
    /** `all` (default) or `locked-store` (that scenario alone). */
    scenario: { type: 'string', default: 'all' },
    /** Writes a V8 CPU profile of each proxy process into this directory. */
    profile: { type: 'string' },
    /** Leaves out the rows with the admin listener. */
    'no-admin': { type: 'boolean', default: false },
    /** Adds a row with the admin listener and one event stream (SSE) reading every event. */
    'admin-sse': { type: 'boolean', default: false },
  },
});
const selection = SCENARIOS.find((name) => name === flags.scenario);
if (selection === undefined) throw new Error(`--scenario: expected one of ${SCENARIOS.join(', ')}, got ${String(flags.scenario)}`);

const HERE = new URL('.', import.meta.url);
const canPin = hasTaskset() && availableParallelism() >= 2;
if (canPin) execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
/** The proxy's core in both layouts (see the header). */
const PROXY_CORE = canPin ? '1' : undefined;

type Mode = 'direct' | 'proxy';
type Layout = 'shared' | 'own-core';
type MirrorStoreKind = 'sqlite' | 'memory';
/** What the admin listener serves during the run: /metrics scrapes, and with 'metrics+events' one SSE client too. */
type AdminLoad = 'metrics' | 'metrics+events';
interface Scenario {
  readonly layout: Layout;
  readonly mode: Mode;
  readonly chargers: number;
  readonly secondaries: number;
  /** Which mirror store the proxy uses; only with secondaries. */
  readonly store?: MirrorStoreKind;
  /** The admin listener on, and what asks it; off when undefined. */
  readonly admin?: AdminLoad;
}
interface Result extends Scenario {
  readonly name: string;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly proxyRssIdleMiB?: number;
  readonly proxyKiBPerCharger?: number;
  /**
   * After the load, the chargers still connected, and a full GC: with the admin listener its per-charger
   * recent-frame rings are full by then. Heap (not RSS, which keeps what the heap grew to) over idle, per charger.
   */
  readonly proxyRssAfterLoadMiB?: number;
  readonly proxyHeapKiBPerChargerAfterLoad?: number;
  /** Proxy CPU (user + system) over the measured window ÷ calls answered in it. */
  readonly proxyCpuMicrosPerCall?: number;
  /** /metrics scrapes answered during the run (warm-up included), and the size of the last one. */
  readonly adminScrapes?: number;
  readonly adminScrapeBytes?: number;
  /** Events the SSE client read, and how many the proxy dropped for it (it read too slowly). */
  readonly sseEvents?: number;
  readonly sseDropped?: number;
}

const smoke = flags.smoke === true;
const sizes = flags.sizes !== undefined ? flags.sizes.split(',').map(Number) : smoke ? [1, 5] : [1, 50, 1000];
const durationMs = (chargers: number): number => (smoke ? 400 : chargers === 1 ? 3000 : 5000);
const warmupMs = smoke ? 150 : 1000;
/** Prometheus scrapes every 15–60 s by default: every second is a busy setting. Smoke runs scrape faster to scrape at all. */
const scrapeIntervalMs = smoke ? 100 : 1000;
/** The smoke run covers the admin rows once, at its last layout and size: each row costs a second of the test suite. */
const adminSizes = flags['no-admin'] === true ? [] : smoke ? sizes.slice(-1) : sizes;
const adminSse = flags['admin-sse'] === true || smoke;
const lockedStorePlan: LockedStorePlan = smoke
  ? { chargers: 3, secondaries: 2, intervalMs: 20, warmupMs: 150, beforeMs: 150, holdMs: 300, afterMs: 300, deliveryTimeoutMs: 30_000 }
  : { chargers: 10, secondaries: 2, intervalMs: 20, warmupMs: 1000, beforeMs: 1000, holdMs: 3000, afterMs: 2000, deliveryTimeoutMs: 30_000 };

const layouts: Layout[] = flags.layout === 'both' ? ['shared', 'own-core'] : [flags.layout === 'own-core' ? 'own-core' : 'shared'];
const adminLayouts = smoke ? layouts.slice(-1) : layouts;
const throughputRuns = selection === 'all';
const results: Result[] = [];
if (throughputRuns) {
  for (const layout of layouts) for (const chargers of sizes) {
    const admin = adminSizes.includes(chargers) && adminLayouts.includes(layout);
    // Each admin row right after its pair without, so a drift of the machine's speed touches both alike.
    const scenarios: Scenario[] = [
      { layout, mode: 'direct', chargers, secondaries: 0 },
      { layout, mode: 'proxy', chargers, secondaries: 0 },
      ...(admin ? [{ layout, mode: 'proxy', chargers, secondaries: 0, admin: 'metrics' } satisfies Scenario] : []),
      ...(admin && adminSse ? [{ layout, mode: 'proxy', chargers, secondaries: 0, admin: 'metrics+events' } satisfies Scenario] : []),
      { layout, mode: 'proxy', chargers, secondaries: 2, store: 'sqlite' },
      ...(admin ? [{ layout, mode: 'proxy', chargers, secondaries: 2, store: 'sqlite', admin: 'metrics' } satisfies Scenario] : []),
      { layout, mode: 'proxy', chargers, secondaries: 2, store: 'memory' },
    ];
    for (const scenario of scenarios) {
      const result = await runScenario(scenario);
      results.push(result);
      const cpu = result.proxyCpuMicrosPerCall === undefined ? '' : `, ${result.proxyCpuMicrosPerCall.toFixed(1)} µs CPU/call`;
      process.stderr.write(`  ${result.name}: ${Math.round(result.callsPerSecond)} calls/s, p50 ${result.p50Ms.toFixed(3)} ms${cpu}\n`);
    }
  }
}

// Scaling over processes: the same 50 chargers through 1 and 2 workers, the proxy
// free to use both cores (generator on core 0, CSMS on core 1, as in `shared`).
const workerRuns: WorkerResult[] = [];
if (throughputRuns && flags.sizes === undefined) {
  for (const workers of [1, 2]) {
    const chargers = smoke ? 5 : 50;
    const result = await runWorkersScenario(chargers, workers);
    workerRuns.push(result);
    process.stderr.write(`  workers ×${workers}, ${chargers} chargers: ${Math.round(result.callsPerSecond)} calls/s\n`);
  }
}

let lockedStore: LockedStoreResult | undefined;
if (selection === 'locked-store' || flags.sizes === undefined) {
  process.stderr.write(`  locked store: ${lockedStorePlan.chargers} chargers, lock held ${lockedStorePlan.holdMs} ms…\n`);
  // As in own-core: the proxy alone on core 1; CSMSs and the locker beside the generator.
  lockedStore = await runLockedStore(lockedStorePlan, canPin ? { proxy: PROXY_CORE, csms: '0', locker: '0' } : {});
}

const scaleChargers = flags.scale !== undefined ? Number(flags.scale) : smoke || flags['no-scale'] === true || !throughputRuns ? 0 : 4900;
const scale = scaleChargers > 0 ? await runScale(scaleChargers, Number(flags.workers ?? 1)) : undefined;

if (results.length > 0) printTable(results);
if (workerRuns.length > 0) {
  process.stdout.write('workers (proxy on both cores, via the CLI; CPU summed over its processes):\n');
  for (const run of workerRuns) {
    process.stdout.write(`  ${run.workers} worker(s), ${run.chargers} chargers: ${Math.round(run.callsPerSecond)} calls/s, p50 ${run.p50Ms.toFixed(3)} ms, p99 ${run.p99Ms.toFixed(3)} ms, RSS ${run.rssMiB.toFixed(1)} MiB, CPU ${run.proxyCpuMicrosPerCall.toFixed(1)} µs/call\n`);
  }
}
const targets = checkTargets(results);
if (lockedStore !== undefined) targets.push(...describeLockedStore(lockedStore));
for (const line of targets) process.stdout.write(`${line}\n`);
if (scale !== undefined) process.stdout.write(`\nscale: ${JSON.stringify(scale)}\n`);

const jsonPath = flags.json ?? new URL('../../bench/results/latest.json', HERE).pathname;
mkdirSync(join(jsonPath, '..'), { recursive: true });
writeFileSync(
  jsonPath,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: availableParallelism(), pinned: canPin, smoke, results, workers: workerRuns, lockedStore, scale, targets }, null, 2)}\n`,
);
process.stdout.write(`\nresults written to ${jsonPath}\n`);

// ── scenarios ──────────────────────────────────────────────────────────────

async function runScenario(scenario: Scenario): Promise<Result> {
  const adminName = scenario.admin === undefined ? '' : scenario.admin === 'metrics' ? '+admin' : '+admin+sse';
  const proxyName = `${scenario.secondaries === 0 ? 'proxy' : `proxy+${scenario.secondaries}sec`}${adminName}${scenario.store === 'memory' ? ' in-memory' : ''}`;
  const name = `${scenario.layout}: ${scenario.mode === 'direct' ? 'direct' : proxyName} ×${scenario.chargers}`;
  const csmsCore = scenario.layout === 'shared' ? '1' : '0';
  const csmsProcess = await startCsmsProcess(1 + scenario.secondaries, canPin ? csmsCore : undefined);
  const [primary, ...secondaries] = csmsProcess.csmss;
  if (primary === undefined) throw new Error('no CSMS');
  const dataDir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-bench-'));
  try {
    if (scenario.mode === 'direct') {
      const fleet = await connectFleet(primary.url, scenario.chargers);
      const load = await fleet.run(durationMs(scenario.chargers), warmupMs);
      fleet.close();
      return { ...scenario, name, ...summarise(load) };
    }
    const proxy = await startProxyProcess(
      {
        primary_csms_url: primary.url,
        secondary_csms: secondaries.map((secondary, i) => ({ url: secondary.url, name: `s${i}` })),
        data_dir: dataDir,
      },
      { cores: PROXY_CORE, profileDir: flags.profile, memoryStore: scenario.store === 'memory', admin: scenario.admin !== undefined },
    );
    try {
      const idle = await proxy.sample();
      const fleet = await connectFleet(`ws://127.0.0.1:${proxy.port}`, scenario.chargers);
      await waitFor(async () => (await csmsProcess.counts()).slice(1).every((count) => count >= scenario.chargers));
      const connected = await proxy.sample();
      const adminPort = proxy.adminPort;
      if (scenario.admin !== undefined && adminPort === undefined) throw new Error('benchmark: the proxy reported no admin port');
      let events: EventStreamClient | undefined;
      if (scenario.admin === 'metrics+events' && adminPort !== undefined) events = await openEventStream(adminPort);
      const scraper = adminPort === undefined ? undefined : startScraper(adminPort, scrapeIntervalMs);
      const { load, cpuMicros } = await measureWithCpu(fleet, proxy, scenario.chargers);
      const scraped = await scraper?.close();
      const streamed = events?.close();
      const afterLoad = await proxy.sample();
      fleet.close();
      return {
        ...scenario,
        name,
        ...summarise(load),
        proxyRssIdleMiB: idle.rss / 2 ** 20,
        proxyKiBPerCharger: (connected.rss - idle.rss) / 1024 / scenario.chargers,
        proxyRssAfterLoadMiB: afterLoad.rss / 2 ** 20,
        proxyHeapKiBPerChargerAfterLoad: (afterLoad.heapUsed - idle.heapUsed) / 1024 / scenario.chargers,
        proxyCpuMicrosPerCall: cpuPerCall(cpuMicros, load),
        adminScrapes: scraped?.scrapes,
        adminScrapeBytes: scraped?.lastBytes,
        sseEvents: streamed?.events,
        sseDropped: streamed?.dropped,
      };
    } finally {
      await proxy.close();
    }
  } finally {
    await csmsProcess.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The closed loop, with the proxy's CPU time read at the moments the measured
 * window opens and closes. (The proxy answers the CPU request on its next event
 * loop turn — a skew of one turn at each end, the same at both.)
 */
async function measureWithCpu(fleet: Fleet, proxy: ProxyProcess, chargers: number): Promise<{ load: LoadResult; cpuMicros: number }> {
  let cpuAtStart: Promise<number> | undefined;
  let cpuAtEnd: Promise<number> | undefined;
  const load = await fleet.run(durationMs(chargers), warmupMs, {
    onMeasureStart: () => {
      cpuAtStart = proxy.cpu();
    },
    onMeasureEnd: () => {
      cpuAtEnd = proxy.cpu();
    },
  });
  if (cpuAtStart === undefined || cpuAtEnd === undefined) throw new Error('benchmark: the measured window never opened or closed');
  return { load, cpuMicros: (await cpuAtEnd) - (await cpuAtStart) };
}

/** Proxy CPU µs per call answered in the window; NaN when none was. */
function cpuPerCall(cpuMicros: number, load: LoadResult): number {
  return load.calls === 0 ? NaN : cpuMicros / load.calls;
}

/**
 * Many chargers with two secondaries at once, each serving a heartbeat. The CSMSs
 * run in processes of their own: one process may hold at most `ulimit -n` sockets.
 */
async function runScale(chargers: number, workers: number): Promise<Record<string, unknown>> {
  process.stderr.write(`  scale: ${chargers} chargers, 2 secondaries, ${workers} worker(s)…\n`);
  const csmss = await Promise.all([0, 1, 2].map(() => startCsmsProcess(1)));
  const dataDir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-bench-'));
  const config = {
    primary_csms_url: csmss[0]!.csmss[0]!.url,
    secondary_csms: [{ url: csmss[1]!.csmss[0]!.url, name: 's1' }, { url: csmss[2]!.csmss[0]!.url, name: 's2' }],
    data_dir: dataDir,
  };
  const proxy = workers > 1 ? await startCliProxy(config, workers, undefined) : await startProxyProcess(config, { cores: PROXY_CORE, profileDir: flags.profile });
  try {
    const idle = await proxy.sample();
    const started = performance.now();
    const fleet = await connectFleet(`ws://127.0.0.1:${proxy.port}`, chargers, { concurrency: 100 });
    await waitFor(async () => (await Promise.all(csmss.map((csms) => csms.counts()))).every(([count]) => (count ?? 0) >= chargers), 120_000);
    const connectSeconds = (performance.now() - started) / 1000;
    const answered = await fleet.pingAll();
    const connected = await proxy.sample();
    fleet.close();
    return {
      chargers,
      secondaries: 2,
      workers,
      proxySockets: chargers * 4,
      connectSeconds: Number(connectSeconds.toFixed(1)),
      heartbeatsAnswered: answered,
      proxyRssIdleMiB: Number((idle.rss / 2 ** 20).toFixed(1)),
      proxyRssConnectedMiB: Number((connected.rss / 2 ** 20).toFixed(1)),
      proxyKiBPerCharger: Number(((connected.rss - idle.rss) / 1024 / chargers).toFixed(1)),
    };
  } finally {
    await proxy.close();
    for (const csms of csmss) await csms.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface WorkerResult {
  readonly workers: number;
  readonly chargers: number;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rssMiB: number;
  /** Summed over the CLI's processes (primary and workers). */
  readonly proxyCpuMicrosPerCall: number;
}

async function runWorkersScenario(chargers: number, workers: number): Promise<WorkerResult> {
  const csmsProcess = await startCsmsProcess(1, canPin ? '1' : undefined);
  const dataDir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-bench-'));
  const proxy = await startCliProxy({ primary_csms_url: csmsProcess.csmss[0]!.url, data_dir: dataDir }, workers, canPin ? '0,1' : undefined);
  try {
    const fleet = await connectFleet(`ws://127.0.0.1:${proxy.port}`, chargers);
    const { load, cpuMicros } = await measureWithCpu(fleet, proxy, chargers);
    const memory = await proxy.sample();
    fleet.close();
    return { workers, chargers, ...summarise(load), rssMiB: memory.rss / 2 ** 20, proxyCpuMicrosPerCall: cpuPerCall(cpuMicros, load) };
  } finally {
    await proxy.close();
    await csmsProcess.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ── reporting ──────────────────────────────────────────────────────────────

function summarise(load: LoadResult): { callsPerSecond: number; p50Ms: number; p99Ms: number } {
  const sorted = Float64Array.from(load.latenciesMs).sort();
  const at = (q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { callsPerSecond: load.calls / load.seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** The same proxy scenario without the admin listener. */
function withoutAdmin(rows: Result[], row: Result): Result | undefined {
  return rows.find(
    (other) =>
      other.admin === undefined &&
      other.mode === row.mode &&
      other.layout === row.layout &&
      other.chargers === row.chargers &&
      other.secondaries === row.secondaries &&
      other.store === row.store,
  );
}

function printTable(rows: Result[]): void {
  const header = ['scenario', 'calls/s', 'vs direct', 'p50 ms', 'p99 ms', 'RSS idle MiB', 'KiB/charger', 'CPU µs/call', 'CPU ÷ no admin'];
  const lines = rows.map((row) => {
    const direct = rows.find((other) => other.mode === 'direct' && other.chargers === row.chargers && other.layout === row.layout);
    const ratio = direct === undefined ? '' : `${(row.callsPerSecond / direct.callsPerSecond).toFixed(2)}×`;
    const base = row.admin === undefined ? undefined : withoutAdmin(rows, row)?.proxyCpuMicrosPerCall;
    const adminRatio = base === undefined || row.proxyCpuMicrosPerCall === undefined ? '' : `${(row.proxyCpuMicrosPerCall / base).toFixed(3)}×`;
    return [
      row.name,
      String(Math.round(row.callsPerSecond)),
      row.mode === 'direct' ? '1.00×' : ratio,
      row.p50Ms.toFixed(3),
      row.p99Ms.toFixed(3),
      row.proxyRssIdleMiB?.toFixed(1) ?? '',
      row.proxyKiBPerCharger?.toFixed(1) ?? '',
      row.proxyCpuMicrosPerCall?.toFixed(1) ?? '',
      adminRatio,
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${format(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${lines.map(format).join('\n')}\n\n`);
}

/**
 * The issue's targets, per layout: ratios against direct, and CPU per call against
 * the proxy's other scenarios, always within this same run.
 */
function checkTargets(rows: Result[]): string[] {
  const lines: string[] = [];
  for (const layout of layouts) {
    const find = (mode: Mode, chargers: number, secondaries: number, store?: MirrorStoreKind, admin?: AdminLoad) =>
      rows.find(
        (row) => row.layout === layout && row.mode === mode && row.chargers === chargers && row.secondaries === secondaries && row.store === store && row.admin === admin,
      );
    const check = (label: string, value: number | undefined, target: number, atMost: boolean): void => {
      if (value === undefined || Number.isNaN(value)) return;
      const met = atMost ? value <= target : value >= target;
      lines.push(`${met ? 'MET    ' : 'NOT MET'} [${layout}] ${label}: ${value.toFixed(2)} (target ${atMost ? '≤' : '≥'} ${target})`);
    };
    const one = find('direct', 1, 0);
    const oneProxy = find('proxy', 1, 0);
    if (one !== undefined && oneProxy !== undefined) check('1 charger p50 round trip vs direct', oneProxy.p50Ms / one.p50Ms, 2.0, true);
    const fifty = find('direct', 50, 0);
    if (fifty !== undefined) {
      check('50 chargers throughput vs direct, no secondary', (find('proxy', 50, 0)?.callsPerSecond ?? NaN) / fifty.callsPerSecond, 0.66, false);
      check('50 chargers throughput vs direct, 2 secondaries', (find('proxy', 50, 2, 'sqlite')?.callsPerSecond ?? NaN) / fifty.callsPerSecond, 0.36, false);
    }
    check('KiB per connected charger with 2 secondaries (1,000 chargers)', find('proxy', 1000, 2, 'sqlite')?.proxyKiBPerCharger, 30, true);
    for (const chargers of sizes) {
      const alone = find('proxy', chargers, 0)?.proxyCpuMicrosPerCall;
      const durable = find('proxy', chargers, 2, 'sqlite')?.proxyCpuMicrosPerCall;
      const inMemory = find('proxy', chargers, 2, 'memory')?.proxyCpuMicrosPerCall;
      if (alone !== undefined && durable !== undefined) check(`${chargers} charger(s) CPU per call, 2 secondaries vs none`, durable / alone, 1.8, true);
      if (durable !== undefined && inMemory !== undefined) check(`${chargers} charger(s) CPU per call, durable vs in-memory store`, durable / inMemory, 1.0, true);
      const aloneAdmin = find('proxy', chargers, 0, undefined, 'metrics')?.proxyCpuMicrosPerCall;
      const durableAdmin = find('proxy', chargers, 2, 'sqlite', 'metrics')?.proxyCpuMicrosPerCall;
      if (alone !== undefined && aloneAdmin !== undefined) check(`${chargers} charger(s) CPU per call, admin listener (scraped every ${scrapeIntervalMs / 1000} s) vs none, no secondary`, aloneAdmin / alone, 1.05, true);
      if (durable !== undefined && durableAdmin !== undefined) check(`${chargers} charger(s) CPU per call, admin listener (scraped every ${scrapeIntervalMs / 1000} s) vs none, 2 durable secondaries`, durableAdmin / durable, 1.05, true);
    }
  }
  return lines;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    // No taskset (or no permission to use it): run unpinned; the JSON records `pinned: false`.
    return false;
  }
}
