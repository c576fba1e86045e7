/**
 * `npm run bench`: ocpp-splitter against a direct charger → CSMS connection, in
 * the same run, so the ratios hold on a noisy machine.
 *
 *   npm run bench                 full run (≈ 2 min): 1, 50, 1,000 chargers × direct / proxy / proxy + 2 secondaries,
 *                                 then the connection-scale run
 *   npm run bench -- --smoke      seconds; checks the benchmark still works (part of the test suite)
 *   npm run bench -- --json FILE  also write the results there (default bench/results/latest.json)
 *   npm run bench -- --scale N --workers W   the scale run with N chargers on W worker processes
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
 * Proxy CPU is sampled exactly over the measured window.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectFleet, type LoadResult } from './lib/chargers.js';
import type { ProxyReport, ProxyRequest } from './lib/proxy-process.js';

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
    /** Writes a V8 CPU profile of each proxy process into this directory. */
    profile: { type: 'string' },
  },
});

const HERE = new URL('.', import.meta.url);
const PROXY_SCRIPT = new URL('lib/proxy-process.js', HERE).pathname;
const CLI_SCRIPT = new URL('../src/cli.js', HERE).pathname;
const CSMS_SCRIPT = new URL('lib/csms-process.js', HERE).pathname;
const canPin = hasTaskset() && availableParallelism() >= 2;
if (canPin) execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });

type Mode = 'direct' | 'proxy';
type Layout = 'shared' | 'own-core';
interface Scenario {
  readonly layout: Layout;
  readonly mode: Mode;
  readonly chargers: number;
  readonly secondaries: number;
}
interface Result extends Scenario {
  readonly name: string;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly proxyRssIdleMiB?: number;
  readonly proxyKiBPerCharger?: number;
  readonly proxyCpuMsPer1000Frames?: number;
}

const smoke = flags.smoke === true;
const sizes = flags.sizes !== undefined ? flags.sizes.split(',').map(Number) : smoke ? [1, 5] : [1, 50, 1000];
const durationMs = (chargers: number): number => (smoke ? 400 : chargers === 1 ? 3000 : 5000);
const warmupMs = smoke ? 150 : 1000;

const layouts: Layout[] = flags.layout === 'both' ? ['shared', 'own-core'] : [flags.layout === 'own-core' ? 'own-core' : 'shared'];
const results: Result[] = [];
for (const layout of layouts) for (const chargers of sizes) {
  for (const scenario of [
    { layout, mode: 'direct', chargers, secondaries: 0 },
    { layout, mode: 'proxy', chargers, secondaries: 0 },
    { layout, mode: 'proxy', chargers, secondaries: 2 },
  ] satisfies Scenario[]) {
    const result = await runScenario(scenario);
    results.push(result);
    process.stderr.write(`  ${result.name}: ${Math.round(result.callsPerSecond)} calls/s, p50 ${result.p50Ms.toFixed(3)} ms\n`);
  }
}

// Scaling over processes: the same 50 chargers through 1 and 2 workers, the proxy
// free to use both cores (generator on core 0, CSMS on core 1, as in `shared`).
const workerRuns: WorkerResult[] = [];
if (flags.sizes === undefined) {
  for (const workers of [1, 2]) {
    const chargers = smoke ? 5 : 50;
    const result = await runWorkersScenario(chargers, workers);
    workerRuns.push(result);
    process.stderr.write(`  workers ×${workers}, ${chargers} chargers: ${Math.round(result.callsPerSecond)} calls/s\n`);
  }
}

const scaleChargers = flags.scale !== undefined ? Number(flags.scale) : smoke || flags['no-scale'] === true ? 0 : 4900;
const scale = scaleChargers > 0 ? await runScale(scaleChargers, Number(flags.workers ?? 1)) : undefined;

printTable(results);
if (workerRuns.length > 0) {
  process.stdout.write('workers (proxy on both cores, via the CLI):\n');
  for (const run of workerRuns) {
    process.stdout.write(`  ${run.workers} worker(s), ${run.chargers} chargers: ${Math.round(run.callsPerSecond)} calls/s, p50 ${run.p50Ms.toFixed(3)} ms, p99 ${run.p99Ms.toFixed(3)} ms, RSS ${run.rssMiB.toFixed(1)} MiB\n`);
  }
}
const targets = checkTargets(results);
for (const line of targets) process.stdout.write(`${line}\n`);
if (scale !== undefined) process.stdout.write(`\nscale: ${JSON.stringify(scale)}\n`);

const jsonPath = flags.json ?? new URL('../../bench/results/latest.json', HERE).pathname;
mkdirSync(join(jsonPath, '..'), { recursive: true });
writeFileSync(
  jsonPath,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: availableParallelism(), pinned: canPin, smoke, results, workers: workerRuns, scale, targets }, null, 2)}\n`,
);
process.stdout.write(`\nresults written to ${jsonPath}\n`);

// ── scenarios ──────────────────────────────────────────────────────────────

async function runScenario(scenario: Scenario): Promise<Result> {
  const name = `${scenario.layout}: ${scenario.mode === 'direct' ? 'direct' : scenario.secondaries === 0 ? 'proxy' : `proxy+${scenario.secondaries}sec`} ×${scenario.chargers}`;
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
    const proxy = await startProxyProcess({
      primary_csms_url: primary.url,
      secondary_csms: secondaries.map((secondary, i) => ({ url: secondary.url, name: `s${i}` })),
      data_dir: dataDir,
    });
    try {
      const idle = await proxy.sample();
      const fleet = await connectFleet(`ws://127.0.0.1:${proxy.port}`, scenario.chargers);
      await waitFor(async () => (await csmsProcess.counts()).slice(1).every((count) => count >= scenario.chargers));
      const connected = await proxy.sample();
      let cpuAtStart: Promise<number> | undefined;
      let cpuAtEnd: Promise<number> | undefined;
      const load = await fleet.run(durationMs(scenario.chargers), warmupMs, {
        onMeasureStart: () => {
          cpuAtStart = proxy.cpu();
        },
        onMeasureEnd: () => {
          cpuAtEnd = proxy.cpu();
        },
      });
      const cpuMicros = (await (cpuAtEnd ?? Promise.resolve(0))) - (await (cpuAtStart ?? Promise.resolve(0)));
      fleet.close();
      // Charger ↔ primary frames: one CALL and one answer per call (mirrored copies come on top).
      const frames = load.calls * 2;
      return {
        ...scenario,
        name,
        ...summarise(load),
        proxyRssIdleMiB: idle.rss / 2 ** 20,
        proxyKiBPerCharger: (connected.rss - idle.rss) / 1024 / scenario.chargers,
        proxyCpuMsPer1000Frames: frames === 0 ? 0 : cpuMicros / 1000 / (frames / 1000),
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
  const proxy = workers > 1 ? await startCliProxy(config, workers, undefined) : await startProxyProcess(config);
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
}

async function runWorkersScenario(chargers: number, workers: number): Promise<WorkerResult> {
  const csmsProcess = await startCsmsProcess(1, canPin ? '1' : undefined);
  const dataDir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-bench-'));
  const proxy = await startCliProxy({ primary_csms_url: csmsProcess.csmss[0]!.url, data_dir: dataDir }, workers, canPin ? '0,1' : undefined);
  try {
    const fleet = await connectFleet(`ws://127.0.0.1:${proxy.port}`, chargers);
    const load = await fleet.run(durationMs(chargers), warmupMs);
    const memory = await proxy.sample();
    fleet.close();
    return { workers, chargers, ...summarise(load), rssMiB: memory.rss / 2 ** 20 };
  } finally {
    await proxy.close();
    await csmsProcess.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ── processes ──────────────────────────────────────────────────────────────

/**
 * The proxy as users run it — the CLI, here with `--workers` — for runs that
 * need node:cluster. Memory is the summed RSS of the whole process tree (Linux /proc).
 */
async function startCliProxy(config: Record<string, unknown>, workers: number, cores: string | undefined): Promise<ProxyProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-bench-cli-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ port: 0, host: '127.0.0.1', log_level: 'info', workers, ...config }));
  const args = [CLI_SCRIPT, '--config', file];
  const child =
    cores === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn('taskset', ['-c', cores, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let listeningPort = 0;
    createInterface({ input: child.stdout }).on('line', (text) => {
      const line = JSON.parse(text) as { msg?: string; port?: number };
      if (line.msg === 'proxy listening' && line.port !== undefined) listeningPort = line.port;
      if (line.msg === 'all workers listening' || (workers === 1 && line.msg === 'proxy listening')) resolve(listeningPort);
    });
    child.once('exit', (code) => reject(new Error(`proxy exited with ${code ?? 'a signal'}`)));
  });
  const treeRss = (pid: number): number => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return rss + children.reduce((sum, child) => sum + treeRss(child), 0);
  };
  return {
    port,
    sample: () => Promise.resolve({ type: 'sample', rss: treeRss(child.pid ?? 0), heapUsed: 0, cpuMicros: 0, chargers: 0, keepaliveSockets: 0 }),
    cpu: () => Promise.resolve(0),
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface ProxyProcess {
  readonly port: number;
  /** Memory after a full GC, and counts. */
  sample(): Promise<Extract<ProxyReport, { type: 'sample' }>>;
  /** CPU time used so far (user + system, µs), without a GC. */
  cpu(): Promise<number>;
  close(): Promise<void>;
}

async function startProxyProcess(config: Record<string, unknown>): Promise<ProxyProcess> {
  const json = JSON.stringify({ port: 0, host: '127.0.0.1', log_level: 'warn', ...config });
  const profile = flags.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${flags.profile}`];
  const args = ['--expose-gc', ...profile, PROXY_SCRIPT, json];
  const child = canPin
    ? spawn('taskset', ['-c', '1', process.execPath, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await nextMessage<ProxyReport>(child, (message) => message.type === 'ready');
  if (ready.type !== 'ready') throw new Error('proxy did not start');
  return {
    port: ready.port,
    async sample() {
      const reply = nextMessage<ProxyReport>(child, (message) => message.type === 'sample');
      child.send({ type: 'sample' } satisfies ProxyRequest);
      const report = await reply;
      if (report.type !== 'sample') throw new Error('unexpected report');
      return report;
    },
    async cpu() {
      const reply = nextMessage<ProxyReport>(child, (message) => message.type === 'cpu');
      child.send({ type: 'cpu' } satisfies ProxyRequest);
      const report = await reply;
      if (report.type !== 'cpu') throw new Error('unexpected report');
      return report.cpuMicros;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' } satisfies ProxyRequest);
      await exited;
    },
  };
}

interface CsmsProcess {
  readonly csmss: ReadonlyArray<{ readonly url: string }>;
  /** Open connections per CSMS, in order. */
  counts(): Promise<number[]>;
  close(): Promise<void>;
}

/** `count` benchmark CSMSs in one child process, pinned to `core` when given. */
async function startCsmsProcess(count: number, core?: string): Promise<CsmsProcess> {
  const args = [CSMS_SCRIPT, String(count)];
  const child =
    core === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : spawn('taskset', ['-c', core, process.execPath, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await nextMessage<{ type: string; urls: string[] }>(child, (message) => message.type === 'ready');
  return {
    csmss: ready.urls.map((url) => ({ url })),
    async counts() {
      const reply = nextMessage<{ type: string; connections: number[] }>(child, (message) => message.type === 'count');
      child.send({ type: 'count' });
      return (await reply).connections;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
    },
  };
}

function nextMessage<T extends { type: string }>(child: ChildProcess, accept: (message: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T): void => {
      if (!accept(message)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null): void => reject(new Error(`child exited with ${code ?? 'a signal'}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('benchmark: timed out waiting for connections');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ── reporting ──────────────────────────────────────────────────────────────

function summarise(load: LoadResult): { callsPerSecond: number; p50Ms: number; p99Ms: number } {
  const sorted = Float64Array.from(load.latenciesMs).sort();
  const at = (q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { callsPerSecond: load.calls / load.seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

function printTable(rows: Result[]): void {
  const header = ['scenario', 'calls/s', 'vs direct', 'p50 ms', 'p99 ms', 'RSS idle MiB', 'KiB/charger', 'CPU ms/1k frames'];
  const lines = rows.map((row) => {
    const direct = rows.find((other) => other.mode === 'direct' && other.chargers === row.chargers && other.layout === row.layout);
    const ratio = direct === undefined ? '' : `${(row.callsPerSecond / direct.callsPerSecond).toFixed(2)}×`;
    return [
      row.name,
      String(Math.round(row.callsPerSecond)),
      row.mode === 'direct' ? '1.00×' : ratio,
      row.p50Ms.toFixed(3),
      row.p99Ms.toFixed(3),
      row.proxyRssIdleMiB?.toFixed(1) ?? '',
      row.proxyKiBPerCharger?.toFixed(1) ?? '',
      row.proxyCpuMsPer1000Frames?.toFixed(1) ?? '',
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${format(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${lines.map(format).join('\n')}\n\n`);
}

/** The issue's targets, as ratios against direct in this same run, per layout. */
function checkTargets(rows: Result[]): string[] {
  const lines: string[] = [];
  for (const layout of layouts) {
    const find = (mode: Mode, chargers: number, secondaries: number) =>
      rows.find((row) => row.layout === layout && row.mode === mode && row.chargers === chargers && row.secondaries === secondaries);
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
      check('50 chargers throughput vs direct, 2 secondaries', (find('proxy', 50, 2)?.callsPerSecond ?? NaN) / fifty.callsPerSecond, 0.36, false);
    }
    check('KiB per connected charger with 2 secondaries (1,000 chargers)', find('proxy', 1000, 2)?.proxyKiBPerCharger, 30, true);
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
