/**
 * The benchmark's child processes, seen from the load generator: the proxy (one
 * process, or the CLI with workers), the CSMSs, and the store locker. Each is
 * pinned with `taskset` to the cores it is given, when given.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ProxyReport, ProxyRequest } from './proxy-process.js';
import type { CsmsReport, CsmsRequest } from './csms-process.js';
import type { LockerReport, LockerRequest } from './store-locker.js';

const HERE = new URL('.', import.meta.url);
const PROXY_SCRIPT = new URL('proxy-process.js', HERE).pathname;
const CSMS_SCRIPT = new URL('csms-process.js', HERE).pathname;
const LOCKER_SCRIPT = new URL('store-locker.js', HERE).pathname;
const CLI_SCRIPT = new URL('../../src/cli.js', HERE).pathname;

/** Linux accounts process CPU time in clock ticks (`getconf CLK_TCK`, 100 on every common kernel). */
const CLOCK_TICKS_PER_SECOND = readClockTicks();

export interface ProxyProcess {
  readonly port: number;
  /** The admin listener's port, when the proxy was started with one. */
  readonly adminPort?: number;
  /** Memory after a full GC, and counts. */
  sample(): Promise<Extract<ProxyReport, { type: 'sample' }>>;
  /**
   * CPU time used so far (user + system, µs), without a GC: the proxy's own
   * `process.cpuUsage()`, or for the CLI the sum over its process tree.
   */
  cpu(): Promise<number>;
  close(): Promise<void>;
}

export interface ProxyProcessOptions {
  /** `taskset -c` core list; unpinned when undefined. */
  readonly cores?: string;
  /** Writes a V8 CPU profile of the proxy process into this directory. */
  readonly profileDir?: string;
  /** Give the proxy the in-memory mirror store instead of the SQLite file (reference scenario). */
  readonly memoryStore?: boolean;
  /** Start the admin listener (dashboard, status API, /metrics) as the CLI does, on an ephemeral port. */
  readonly admin?: boolean;
}

/** The proxy library in a process of its own (bench/lib/proxy-process.ts), reporting through IPC. */
export async function startProxyProcess(config: Record<string, unknown>, options: ProxyProcessOptions = {}): Promise<ProxyProcess> {
  const json = JSON.stringify({ port: 0, host: '127.0.0.1', log_level: 'warn', ...config });
  const profile = options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`];
  const args = [
    '--expose-gc',
    ...profile,
    PROXY_SCRIPT,
    json,
    ...(options.memoryStore === true ? ['--memory-store'] : []),
    ...(options.admin === true ? ['--admin'] : []),
  ];
  const child = spawnPinned(args, options.cores, ['ignore', 'inherit', 'inherit', 'ipc']);
  const ready = await nextMessage<ProxyReport>(child, (message) => message.type === 'ready');
  if (ready.type !== 'ready') throw new Error('proxy did not start');
  return {
    port: ready.port,
    adminPort: ready.adminPort,
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

/**
 * The proxy as users run it — the CLI, here with `--workers` — for runs that
 * need node:cluster. Memory and CPU are summed over the whole process tree (Linux
 * /proc); CPU there has the kernel's tick resolution (10 ms per process at 100 Hz).
 */
export async function startCliProxy(config: Record<string, unknown>, workers: number, cores: string | undefined): Promise<ProxyProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-bench-cli-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ port: 0, host: '127.0.0.1', log_level: 'info', workers, ...config }));
  const child = spawnPinned([CLI_SCRIPT, '--config', file], cores, ['ignore', 'pipe', 'inherit']);
  const port = await new Promise<number>((resolve, reject) => {
    let listeningPort = 0;
    const stdout = child.stdout;
    if (stdout === null) throw new Error('proxy stdout is not piped');
    createInterface({ input: stdout }).on('line', (text) => {
      const line = JSON.parse(text) as { msg?: string; port?: number };
      if (line.msg === 'proxy listening' && line.port !== undefined) listeningPort = line.port;
      if (line.msg === 'all workers listening' || (workers === 1 && line.msg === 'proxy listening')) resolve(listeningPort);
    });
    child.once('exit', (code) => reject(new Error(`proxy exited with ${code ?? 'a signal'}`)));
  });
  const pid = child.pid ?? 0;
  return {
    port,
    sample: () => Promise.resolve({ type: 'sample', rss: sumOverTree(pid, rssOf), heapUsed: 0, cpuMicros: sumOverTree(pid, cpuMicrosOf), chargers: 0, keepaliveSockets: 0 }),
    cpu: () => Promise.resolve(sumOverTree(pid, cpuMicrosOf)),
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CsmsProcess {
  readonly csmss: ReadonlyArray<{ readonly url: string }>;
  /** Open connections per CSMS, in order. */
  counts(): Promise<number[]>;
  /**
   * Per CSMS, in order: the message ids of the CALLs each charger's connection
   * brought, in arrival order, by charger identity (only with `record`).
   */
  received(): Promise<Array<Record<string, string[]>>>;
  close(): Promise<void>;
}

/** `count` benchmark CSMSs in one child process, pinned to `core` when given. */
export async function startCsmsProcess(count: number, core?: string, options: { record?: boolean } = {}): Promise<CsmsProcess> {
  const args = [CSMS_SCRIPT, String(count), ...(options.record === true ? ['--record'] : [])];
  const child = spawnPinned(args, core, ['ignore', 'inherit', 'inherit', 'ipc']);
  const ready = await nextMessage<CsmsReport>(child, (message) => message.type === 'ready');
  if (ready.type !== 'ready') throw new Error('CSMS did not start');
  return {
    csmss: ready.urls.map((url) => ({ url })),
    async counts() {
      const reply = nextMessage<CsmsReport>(child, (message) => message.type === 'count');
      child.send({ type: 'count' } satisfies CsmsRequest);
      const report = await reply;
      if (report.type !== 'count') throw new Error('unexpected report');
      return report.connections;
    },
    async received() {
      const reply = nextMessage<CsmsReport>(child, (message) => message.type === 'received');
      child.send({ type: 'received' } satisfies CsmsRequest);
      const report = await reply;
      if (report.type !== 'received') throw new Error('unexpected report');
      return report.callIds;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' } satisfies CsmsRequest);
      await exited;
    },
  };
}

export interface StoreLocker {
  /**
   * Takes the write lock (`BEGIN IMMEDIATE`), holds it `holdMs`, commits. Resolves
   * with when the lock was taken and let go, in this process's `performance.now()`
   * (the moments the locker's reports arrived here).
   */
  hold(holdMs: number): Promise<{ lockedAt: number; releasedAt: number }>;
  close(): Promise<void>;
}

/** Another process with the proxy's SQLite file open (bench/lib/store-locker.ts), ready to lock it. */
export async function startStoreLocker(file: string, core?: string): Promise<StoreLocker> {
  const child = spawnPinned([LOCKER_SCRIPT, file], core, ['ignore', 'inherit', 'inherit', 'ipc']);
  await nextMessage<LockerReport>(child, (message) => message.type === 'ready');
  return {
    async hold(holdMs) {
      const locked = nextMessage<LockerReport>(child, (message) => message.type === 'locked').then(() => performance.now());
      const released = nextMessage<LockerReport>(child, (message) => message.type === 'released').then(() => performance.now());
      child.send({ type: 'hold', holdMs } satisfies LockerRequest);
      const [lockedAt, releasedAt] = await Promise.all([locked, released]);
      return { lockedAt, releasedAt };
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' } satisfies LockerRequest);
      await exited;
    },
  };
}

export function nextMessage<T extends { type: string }>(child: ChildProcess, accept: (message: T) => boolean): Promise<T> {
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

/** Polls `condition` every 20 ms until it holds; throws `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'timed out waiting for connections'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`benchmark: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Stdio = Array<'ignore' | 'inherit' | 'pipe' | 'ipc'>;

function spawnPinned(nodeArgs: string[], cores: string | undefined, stdio: Stdio): ChildProcess {
  return cores === undefined
    ? spawn(process.execPath, nodeArgs, { stdio })
    : spawn('taskset', ['-c', cores, process.execPath, ...nodeArgs], { stdio });
}

function sumOverTree(pid: number, measure: (pid: number) => number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return measure(pid) + children.reduce((sum, child) => sum + sumOverTree(child, measure), 0);
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** utime + stime of one process (proc(5): fields 14 and 15 of /proc/PID/stat), in µs. */
function cpuMicrosOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / CLOCK_TICKS_PER_SECOND) * 1e6;
}

function readClockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch (error) {
    process.stderr.write(`benchmark: getconf CLK_TCK failed (${String(error)}); assuming 100 Hz\n`);
    return 100;
  }
}
