/** Runs the built CLI (`node dist/cli.js`, built by `npm test`'s pretest) as users run it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { onCleanup } from './harness.js';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

export type LogLine = Record<string, unknown>;

export interface RunningCli {
  readonly child: ChildProcess;
  /** stdout, one parsed JSON object per line (non-JSON lines as `{ msg: text }`). */
  readonly lines: LogLine[];
  /** Settles when the process has exited and its output has been read to the end. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** The first line (already printed or future) with this msg that satisfies `predicate`. */
  waitForLine(msg: string, predicate?: (line: LogLine) => boolean): Promise<LogLine>;
}

/**
 * The admin listener's default port is fixed (9001): tests that run the CLI in parallel turn it off
 * unless they test it (then they pass ADMIN_PORT themselves).
 */
export const NO_ADMIN = { ADMIN_PORT: '0' } as const;

/** Starts the CLI with only PATH and `env` in its environment; killed by closeAll() if still running. */
export function runCli(args: string[], env: Record<string, string>): RunningCli {
  return runProcess(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...NO_ADMIN, ...env } });
}

/**
 * The environment of a user's shell: without the npm_* variables `npm test` sets for its scripts, which would
 * make a nested npm treat this repository as the project (npm_config_local_prefix, …).
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, ...NO_ADMIN, ...extra };
}

export interface RunProcessOptions {
  /** The whole environment of the child. */
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Starts it in a process group of its own, as a shell job is (killed as a group on cleanup). */
  readonly group?: boolean;
  /** Runs it as this user and group (the test runs as root): to meet permissions a root process never does. */
  readonly uid?: number;
  readonly gid?: number;
}

/** Starts any command whose stdout carries the proxy's JSON log lines; killed by closeAll() if still running. */
export function runProcess(command: string, args: string[], options: RunProcessOptions): RunningCli {
  const group = options.group === true;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  onCleanup(() => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    if (group) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  });
  const lines: LogLine[] = [];
  const waiters: Array<{ msg: string; predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text }; // --help and --version print plain text
    }
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.msg === line.msg && w.predicate(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  // 'close', not 'exit': it waits until stdout and stderr have been read to the end.
  const exit = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return {
    child,
    lines,
    exit,
    stderr: () => stderr,
    waitForLine(msg, predicate = () => true) {
      const found = lines.find((line) => line.msg === msg && predicate(line));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ msg, predicate, resolve });
        void exit.then(({ code, signal }) => reject(new Error(`CLI exited (${String(code ?? signal)}) before logging "${msg}": ${stderr}`)));
      });
    },
  };
}
