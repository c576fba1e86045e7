import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, StoreError } from '../../src/errors.js';
import {
  DEFAULT_STORE_FILE_NAME,
  openSqliteStore,
  secondaryStoreKey,
  type CommitInfo,
  type SqliteMirrorStore,
  type SqliteStoreOptions,
} from '../../src/store/sqlite-store.js';
import type { NewOutboxRecord, OutboxLimits, StreamKey } from '../../src/store/store.js';
import { describeStoreContract, expectStoreError } from './contract.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const T0 = 1_700_000_000_000;
const ROOMY: OutboxLimits = { maxMessages: 100_000, maxBytes: 100_000_000 };
const A: StreamKey = { chargerId: 'CP-1', secondaryKey: 'name:a' };
/** Frames big enough that a few of them need new pages. */
const BIG_PAD = 2_000;

/** Stores, directories and processes a test opened; closed, removed and killed after each test. */
const stores: SqliteMirrorStore[] = [];
const directories: string[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const store of stores.splice(0)) await store.close();
  for (const dir of directories.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function temporaryDirectory(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocpp-splitter-store-'));
  directories.push(dir);
  return dir;
}

function open(options: Partial<SqliteStoreOptions> = {}): SqliteMirrorStore {
  const store = openSqliteStore({ dataDir: options.dataDir ?? temporaryDirectory(), ...options });
  stores.push(store);
  return store;
}

/** A store that fails writes like a full disk: the file may not grow beyond its schema. */
function openFullDisk(options: Partial<SqliteStoreOptions> = {}): SqliteMirrorStore {
  // SQLite never lowers max_page_count below the current size, so 1 means "exactly the schema".
  return open({ maxPageCount: 1, ...options });
}

function entry(n: number, overrides: Partial<NewOutboxRecord> & { pad?: number } = {}): NewOutboxRecord {
  const { pad = 0, ...rest } = overrides;
  const id = `m-${n}`;
  return {
    frame: JSON.stringify([2, id, 'MeterValues', { connectorId: 1, data: 'x'.repeat(pad) }]),
    messageId: id,
    action: 'MeterValues',
    kind: 'call',
    priority: 'droppable',
    startRef: null,
    txRef: 'tx-1',
    enqueuedAt: T0 + n,
    ...rest,
  };
}

/** A promise and the function that resolves it: for "wait until the callback was called". */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}


function refTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout' || kind === 'Immediate').length;
}

/** Tracks whether each promise has settled, without changing what it settles with. */
function tracked<T>(promises: Array<Promise<T>>): { promises: Array<Promise<T>>; settled: () => number } {
  let settled = 0;
  for (const promise of promises) {
    void promise.then(
      () => (settled += 1),
      () => (settled += 1),
    );
  }
  return { promises, settled: () => settled };
}

describeStoreContract('SqliteMirrorStore', (now) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocpp-splitter-contract-'));
  return Promise.resolve({
    store: openSqliteStore({ dataDir, now }),
    cleanup: () => fs.rmSync(dataDir, { recursive: true, force: true }),
  });
});

describe('SqliteMirrorStore: group commit', () => {
  it('commits 1,000 appends made in one interval in one transaction, and settles each after it', async () => {
    const commits: CommitInfo[] = [];
    const store = open({ onCommit: (info) => commits.push(info) });
    const appends = Array.from({ length: 1_000 }, (_, n) => store.append(A, entry(n), ROOMY));
    const commitsSeenAtSettle = await Promise.all(appends.map((append) => append.then(() => store.commitCount)));
    expect(commitsSeenAtSettle.every((count) => count === 1)).toBe(true);
    expect(commits.map((commit) => commit.writes)).toEqual([1_000]);
    expect(commits[0]?.durationMs).toBeGreaterThan(0);
    expect(store.pendingWrites).toBe(0);
    expect(store.pendingBytes).toBe(0);
    expect((await store.stats(A)).messages).toBe(1_000);
  });

  it('counts what is queued: writes and frame bytes', () => {
    const store = open({ commitIntervalMs: 60_000 });
    const appends = [store.append(A, entry(1), ROOMY), store.append(A, entry(2, { pad: 100 }), ROOMY), store.saveLastBoot('CP-1', 'boot')];
    expect(store.pendingWrites).toBe(3);
    expect(store.pendingBytes).toBe(Buffer.byteLength(entry(1).frame) + Buffer.byteLength(entry(2, { pad: 100 }).frame) + 4);
    expect(store.commitCount).toBe(0);
    return Promise.all([store.flush(), ...appends]);
  });

  it('commits a batch commitIntervalMs after its first write', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const store = open({ commitIntervalMs: 50 });
    const first = store.append(A, entry(1), ROOMY);
    vi.advanceTimersByTime(30);
    const second = store.append(A, entry(2), ROOMY);
    vi.advanceTimersByTime(19);
    expect(store.commitCount).toBe(0);
    vi.advanceTimersByTime(1);
    expect(store.commitCount).toBe(1);
    expect(store.pendingWrites).toBe(0);
    await Promise.all([first, second]);
  });

  it('commits a lease operation in the next turn, with the writes queued before it', async () => {
    const store = open({ commitIntervalMs: 60_000 });
    const append = store.append(A, entry(1), ROOMY);
    const grant = await store.acquireLease('CP-1', 'owner-1', 60_000);
    expect(grant?.token).toBe(1);
    expect(store.commitCount).toBe(1);
    expect((await append).seq).toBeGreaterThan(0);
  });

  // Regression: the next-turn commit used an unref'd setImmediate; a timer set in a microtask right
  // after an unref'd immediate ran never fired (Node 20), so a write made just after a lease hung.
  it('commits a write made right after a lease operation', async () => {
    const store = open();
    for (let n = 0; n < 5; n += 1) {
      await store.acquireLease('CP-1', 'owner-1', 60_000);
      await store.append(A, entry(n), ROOMY);
    }
    expect((await store.stats(A)).messages).toBe(5);
  });

  it('flush commits now; with nothing queued it commits nothing', async () => {
    const store = open({ commitIntervalMs: 60_000 });
    const append = store.append(A, entry(1), ROOMY);
    await store.flush();
    expect(store.commitCount).toBe(1);
    await append;
    await store.flush();
    expect(store.commitCount).toBe(1);
  });

  it('splits a queue of more than 5,000 writes into several commits', async () => {
    const commits: number[] = [];
    const store = open({ onCommit: ({ writes }) => commits.push(writes) });
    const appends = Array.from({ length: 6_000 }, (_, n) => store.append(A, entry(n), ROOMY));
    await Promise.all(appends);
    expect(commits).toEqual([5_000, 1_000]);
  });

  it('reads committed data only (documented): a write still queued is not seen', async () => {
    const store = open({ commitIntervalMs: 60_000 });
    const append = store.append(A, entry(1), ROOMY);
    expect(await store.read(A, 0, 10, 1_000)).toEqual([]);
    await store.flush();
    await append;
    expect(await store.read(A, 0, 10, 1_000)).toHaveLength(1);
  });

  it('its commit timer does not keep the process alive', async () => {
    const before = refTimers();
    const store = open({ commitIntervalMs: 60_000 });
    const append = store.append(A, entry(1), ROOMY);
    expect(refTimers()).toBe(before);
    await store.flush();
    await append;
  });
});

describe('SqliteMirrorStore: outbox counts kept in memory', () => {
  it('never drops on a count that another process made stale: it counts again first', async () => {
    const dataDir = temporaryDirectory();
    const a = open({ dataDir });
    const b = open({ dataDir });
    const stream = { chargerId: 'CP-1', secondaryKey: 'name:s' };
    const limits = { maxMessages: 3, maxBytes: 1024 * 1024 };
    const seqs: number[] = [];
    for (let i = 0; i < 3; i += 1) seqs.push((await a.append(stream, entry(i), limits)).seq);
    // Another process (the charger's new owner) delivers two of them.
    const fence = await b.acquireLease('CP-1', 'other', 60_000);
    if (fence === undefined) throw new Error('no lease');
    for (const seq of seqs.slice(0, 2)) await b.ack(stream, seq, fence);
    // A's count says 3 (+1 = over the limit); the outbox holds 1 (+1): nothing may be dropped.
    expect((await a.append(stream, entry(3), limits)).dropped).toEqual([]);
    expect(await a.stats(stream)).toMatchObject({ messages: 2 });
  });

  it('enforces the limits with counts that survive a restart (read again from the outbox)', async () => {
    const dataDir = temporaryDirectory();
    const first = open({ dataDir });
    const stream = { chargerId: 'CP-1', secondaryKey: 'name:s' };
    const limits = { maxMessages: 3, maxBytes: 1024 * 1024 };
    for (let i = 0; i < 3; i += 1) await first.append(stream, entry(i), limits);
    await first.close();
    const second = open({ dataDir });
    const { dropped } = await second.append(stream, entry(3), limits);
    expect(dropped.map((d) => d.action)).toEqual(['MeterValues']);
    expect(await second.stats(stream)).toMatchObject({ messages: 3 });
  });
});

describe('SqliteMirrorStore: durability', () => {
  it('keeps everything across close and reopen, including writes queued at close', async () => {
    const dataDir = temporaryDirectory();
    const first = openSqliteStore({ dataDir, commitIntervalMs: 60_000 });
    const fence = await first.acquireLease('CP-1', 'owner-1', 60_000);
    if (fence === undefined) throw new Error('no lease');
    const writes = [
      first.append(A, entry(1, { priority: 'transaction', startRef: 'ref-1' }), ROOMY),
      first.append(A, entry(2), ROOMY),
      first.savePendingRemoteStart('CP-1', 'name:a', { version: '1.6', idTag: 'TAG' }, fence),
      first.putTransactionLink('CP-1', 'name:a', { startRef: 'ref-1', primaryTxId: '42', secondaryTxId: '7', remoteStart: null, stoppedAt: null }, fence),
      first.saveLastBoot('CP-1', '[2,"1","BootNotification",{}]'),
    ];
    expect(first.pendingWrites).toBe(5);
    await first.close();
    await Promise.all(writes);
    expect(fs.existsSync(path.join(dataDir, DEFAULT_STORE_FILE_NAME))).toBe(true);

    const second = open({ dataDir });
    const read = await second.read(A, 0, 10, 100_000);
    expect(read.map((r) => r.messageId)).toEqual(['m-1', 'm-2']);
    expect(read[0]).toMatchObject({ priority: 'transaction', startRef: 'ref-1' });
    expect(await second.takePendingRemoteStart('CP-1', 'name:a', fence)).toEqual({ version: '1.6', idTag: 'TAG' });
    expect(await second.findTransactionLinkByPrimaryId('CP-1', 'name:a', '42')).toMatchObject({ startRef: 'ref-1', secondaryTxId: '7' });
    expect(await second.loadLastBoot('CP-1')).toBe('[2,"1","BootNotification",{}]');
  });

  it('creates a missing data directory and uses fileName', async () => {
    const dataDir = path.join(temporaryDirectory(), 'a', 'b');
    const store = open({ dataDir, fileName: 'custom.db' });
    await store.saveLastBoot('CP-1', 'x');
    expect(fs.existsSync(path.join(dataDir, 'custom.db'))).toBe(true);
  });

  it('writes schema version 2 in WAL mode', async () => {
    const dataDir = temporaryDirectory();
    await open({ dataDir }).close();
    const db = new Database(path.join(dataDir, DEFAULT_STORE_FILE_NAME));
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('keeps every committed write when the process is killed with SIGKILL', async () => {
    const compiled = fileURLToPath(new URL('../../dist/store/sqlite-store.js', import.meta.url));
    const source = fileURLToPath(new URL('../../src/store/sqlite-store.ts', import.meta.url));
    if (!fs.existsSync(compiled) || fs.statSync(compiled).mtimeMs < fs.statSync(source).mtimeMs) {
      throw new Error(`${compiled} is missing or older than its source: run \`npm run build\` (npm test does it)`);
    }
    const dataDir = temporaryDirectory();
    // The child never closes the store: the committed transactions live only in the WAL when it dies.
    const script = `
      // The store's timers are unref'd: something must keep this process alive until the commit.
      setInterval(() => {}, 60_000);
      const [moduleUrl, dataDir] = process.argv.slice(1);
      const { openSqliteStore } = await import(moduleUrl);
      const store = openSqliteStore({ dataDir });
      const limits = { maxMessages: 10000, maxBytes: 10000000 };
      const appends = [];
      for (let n = 0; n < 500; n += 1) {
        appends.push(store.append({ chargerId: 'CP-1', secondaryKey: 'name:a' }, {
          frame: '[2,"' + n + '","Heartbeat",{}]', messageId: String(n), action: 'Heartbeat', kind: 'call',
          priority: 'droppable', startRef: null, txRef: null, enqueuedAt: n,
        }, limits));
      }
      const results = await Promise.all(appends);
      await store.saveLastBoot('CP-1', 'boot');
      process.stdout.write('committed ' + results.length + ' ' + store.pendingWrites + '\\n');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, new URL(`file://${compiled}`).href, dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const { line, exited } = watchChild(child);
    expect(await line('committed')).toBe('committed 500 0');
    child.kill('SIGKILL');
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });

    const store = open({ dataDir });
    const outbox = await store.read(A, 0, 1_000, 10_000_000);
    expect(outbox.map((r) => r.messageId)).toEqual(Array.from({ length: 500 }, (_, n) => String(n)));
    expect(outbox[499]?.frame).toBe('[2,"499","Heartbeat",{}]');
    expect(await store.stats(A)).toMatchObject({ messages: 500 });
    expect(await store.loadLastBoot('CP-1')).toBe('boot');
  });
});

describe('SqliteMirrorStore: write failures', () => {
  it('SQLITE_FULL: reports, keeps every write, settles none, and commits them all once there is room', async () => {
    const refTimersBefore = refTimers();
    const reports: Array<{ error: StoreError; pending: number }> = [];
    const firstReport = signal();
    const store = openFullDisk({
      onWriteError: (error, pending) => {
        reports.push({ error, pending });
        firstReport.fire();
      },
    });
    const writes = tracked<unknown>([
      ...Array.from({ length: 50 }, (_, n) => store.append(A, entry(n, { pad: BIG_PAD }), ROOMY)),
      store.saveLastBoot('CP-1', 'boot'),
    ]);
    await firstReport.promise;

    expect(reports[0]?.error.code).toBe(ErrorCode.StoreWriteFailed);
    expect(reports[0]?.error.message).toMatch(/SQLITE_FULL/);
    expect(reports[0]?.error.message).toContain(store.filePath);
    expect(reports[0]?.pending).toBe(51);
    expect(store.healthy).toBe(false);
    expect(store.pendingWrites).toBe(51);
    expect(store.commitCount).toBe(0);
    expect(writes.settled()).toBe(0);
    // The retry timer is unref'd: a failing disk never keeps the process alive.
    expect(refTimers()).toBe(refTimersBefore);
    // An explicit flush tries now, reports, and rejects; the writes stay queued.
    const reportsBefore = reports.length;
    await expectStoreError(store.flush(), ErrorCode.StoreWriteFailed);
    expect(reports.length).toBe(reportsBefore + 1);
    expect(store.pendingWrites).toBe(51);
    expect(writes.settled()).toBe(0);

    store.setMaxPageCount(1_000_000);
    // The retry timer commits them: no flush needed.
    await Promise.all(writes.promises);
    expect(store.healthy).toBe(true);
    expect(store.pendingWrites).toBe(0);
    const read = await store.read(A, 0, 100, 10_000_000);
    expect(read.map((r) => r.messageId)).toEqual(Array.from({ length: 50 }, (_, n) => `m-${n}`));
    expect(await store.loadLastBoot('CP-1')).toBe('boot');
  });

  it('retries a failed commit after ~100 ms, doubling up to 5 s; new writes wait for the retry', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // no jitter: the middle of the ±20 % band
    let reports = 0;
    const store = openFullDisk({ onWriteError: () => (reports += 1) });
    const appends = Array.from({ length: 50 }, (_, n) => store.append(A, entry(n, { pad: BIG_PAD }), ROOMY));
    vi.advanceTimersByTime(5); // the commit timer: the first failure
    expect(reports).toBe(1);
    // A write made while a retry is due schedules no commit of its own (the counts below would be off).
    const more = store.append(A, entry(50), ROOMY);

    for (const delay of [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000]) {
      const before = reports;
      vi.advanceTimersByTime(delay - 1);
      expect(reports).toBe(before);
      vi.advanceTimersByTime(1);
      expect(reports).toBe(before + 1);
    }

    store.setMaxPageCount(1_000_000);
    vi.advanceTimersByTime(5_000);
    expect(store.healthy).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(await Promise.all([...appends, more])).toHaveLength(51);
  });

  it('a commit refused for a lock is retried after ~10 ms, doubling up to 1 s, and reported as a lock', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const reports: StoreError[] = [];
    const store = open({ onWriteError: (error) => reports.push(error) });
    // Another connection (the same process will do here: what matters is the file lock) holds the write lock.
    const other = new Database(store.filePath);
    other.exec('BEGIN IMMEDIATE');
    try {
      const append = store.append(A, entry(1), ROOMY);
      vi.advanceTimersByTime(5);
      expect(reports).toHaveLength(1);
      expect(reports[0]?.message).toContain('locked by another connection');
      expect(reports[0]?.cause).toMatchObject({ code: 'SQLITE_BUSY' });
      for (const delay of [10, 20, 40, 80, 160, 320, 640, 1_000, 1_000]) {
        const before = reports.length;
        vi.advanceTimersByTime(delay - 1);
        expect(reports.length).toBe(before);
        vi.advanceTimersByTime(1);
        expect(reports.length).toBe(before + 1);
      }
      other.exec('COMMIT');
      vi.advanceTimersByTime(1_000);
      expect(store.healthy).toBe(true);
      expect((await append).seq).toBeGreaterThan(0);
    } finally {
      other.close();
    }
  });

  it('refuses appends beyond maxPendingBytes while the disk is failing, and loses nothing it accepted', async () => {
    const big = Buffer.byteLength(entry(0, { pad: BIG_PAD }).frame);
    const firstReport = signal();
    const store = openFullDisk({ maxPendingBytes: 10 * big, onWriteError: firstReport.fire });
    const accepted = Array.from({ length: 10 }, (_, n) => store.append(A, entry(n, { pad: BIG_PAD }), ROOMY));
    await firstReport.promise;

    const refused = await expectStoreError(store.append(A, entry(10, { pad: BIG_PAD }), ROOMY), ErrorCode.StoreOverloaded);
    expect(refused.message).toContain(store.filePath);
    await expectStoreError(store.append(A, entry(11), ROOMY), ErrorCode.StoreOverloaded);
    expect(store.pendingBytes).toBe(10 * big);
    expect(store.pendingWrites).toBe(10);

    store.setMaxPageCount(1_000_000);
    await store.flush();
    await Promise.all(accepted);
    expect((await store.read(A, 0, 100, 10_000_000)).map((r) => r.messageId)).toEqual(Array.from({ length: 10 }, (_, n) => `m-${n}`));
    // Room again.
    expect((await store.append(A, entry(12), ROOMY)).seq).toBeGreaterThan(0);
  });

  it('a write that fails on its own is rejected, changes nothing, and holds up no other write', async () => {
    const store = open();
    const fence = await store.acquireLease('CP-1', 'owner-1', 60_000);
    if (fence === undefined) throw new Error('no lease');
    await store.savePendingRemoteStart('CP-1', 'name:a', { version: '1.6', idTag: 'TAG' }, fence);
    const other = new Database(store.filePath);
    try {
      other.prepare("UPDATE remote_starts SET tag = 'not json' WHERE charger_id = 'CP-1'").run();
      const take = store.takePendingRemoteStart('CP-1', 'name:a', fence);
      const append = store.append(A, entry(1), ROOMY);
      const error = await expectStoreError(take, ErrorCode.StoreWriteFailed);
      expect(error.message).toContain(store.filePath);
      expect((await append).seq).toBeGreaterThan(0);
      expect(store.healthy).toBe(true);
      expect(other.prepare('SELECT tag FROM remote_starts').all()).toEqual([{ tag: 'not json' }]);
    } finally {
      other.close();
    }
  });

  it('on close, reports what it could not commit and rejects those writes', async () => {
    const reports: StoreError[] = [];
    const store = openFullDisk({ onWriteError: (error) => reports.push(error) });
    const appends = Array.from({ length: 50 }, (_, n) => store.append(A, entry(n, { pad: BIG_PAD }), ROOMY));
    await store.close();
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.at(-1)?.code).toBe(ErrorCode.StoreWriteFailed);
    expect(reports.at(-1)?.message).toMatch(/SQLITE_FULL/);
    for (const append of appends) {
      const error = await expectStoreError(append, ErrorCode.StoreWriteFailed);
      expect(error.message).toMatch(/closed before this write could be committed/);
    }
    expect(store.pendingWrites).toBe(0);
    expect((await expectStoreError(store.read(A, 0, 1, 1), ErrorCode.StoreUnavailable)).message).toBe('store is closed');
  });

  it('leaves no commit or retry timer behind when closed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const store = openFullDisk({ onWriteError: () => undefined });
    const appends = Array.from({ length: 50 }, (_, n) => store.append(A, entry(n, { pad: BIG_PAD }), ROOMY));
    vi.advanceTimersByTime(5);
    expect(store.healthy).toBe(false);
    expect(vi.getTimerCount()).toBe(1);
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
    await Promise.allSettled(appends);
  });
});

describe('SqliteMirrorStore: another process holds the write lock', () => {
  const HOLD_MS = 1_500;
  /** Far below the lock time: this checks the behaviour (no waiting on the lock), not speed. */
  const MAX_STALL_MS = 300;

  it('accepts appends without blocking the event loop, and settles them all, in order, once the lock is gone', async () => {
    const reports: StoreError[] = [];
    const store = open({ onWriteError: (error) => reports.push(error) });
    await store.saveLastBoot('CP-1', 'boot');

    const script = `
      import Database from 'better-sqlite3';
      const [file, holdMs] = process.argv.slice(1);
      const db = new Database(file, { timeout: 5000 });
      db.exec('BEGIN IMMEDIATE');
      process.stdout.write('locked\\n');
      setTimeout(() => {
        db.exec('COMMIT');
        db.close();
        process.stdout.write('released\\n');
      }, Number(holdMs));
    `;
    // cwd: the repository, so that the child resolves better-sqlite3 from its node_modules.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, store.filePath, String(HOLD_MS)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const { line } = watchChild(child);
    await line('locked');

    const stalls = monitorEventLoopDelay({ resolution: 10 });
    stalls.enable();
    const started = performance.now();
    const order: number[] = [];
    const settledAfterMs: number[] = [];
    const appends = Array.from({ length: 200 }, (_, n) =>
      store.append(A, entry(n), ROOMY).then((result) => {
        order.push(n);
        settledAfterMs.push(performance.now() - started);
        return result.seq;
      }),
    );
    expect(store.pendingWrites).toBe(200);
    // A WAL reader is not blocked by a writer.
    expect(await store.loadLastBoot('CP-1')).toBe('boot');

    const seqs = await Promise.all(appends);
    stalls.disable();
    await line('released');

    expect(order).toEqual(Array.from({ length: 200 }, (_, n) => n));
    for (let i = 1; i < seqs.length; i += 1) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? Infinity);
    // Nothing settled while the other process held the lock (it held it HOLD_MS after saying so).
    expect(Math.min(...settledAfterMs)).toBeGreaterThan(HOLD_MS - 200);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.every((report) => report.message.includes('locked by another connection'))).toBe(true);
    expect(stalls.max / 1e6).toBeLessThan(MAX_STALL_MS);
    expect(store.healthy).toBe(true);
    expect((await store.stats(A)).messages).toBe(200);
  });
});

describe('SqliteMirrorStore: migration from schema version 1', () => {
  /** The schema ocpp-splitter 0.1 wrote, frozen here as a fixture: the test must not follow later changes. */
  const SCHEMA_V1 = `
    CREATE TABLE outbox (
      charger_id TEXT NOT NULL, secondary_key TEXT NOT NULL, seq INTEGER NOT NULL, frame TEXT NOT NULL,
      action TEXT NOT NULL, priority TEXT NOT NULL, start_ref TEXT, tx_ref TEXT, enqueued_at INTEGER NOT NULL,
      PRIMARY KEY (charger_id, secondary_key, seq));
    CREATE TABLE pending_id_tags (
      charger_id TEXT NOT NULL, secondary_key TEXT NOT NULL, id_tag TEXT NOT NULL, saved_at INTEGER NOT NULL,
      PRIMARY KEY (charger_id, secondary_key)) WITHOUT ROWID;
    CREATE TABLE transaction_links (
      charger_id TEXT NOT NULL, secondary_key TEXT NOT NULL, start_ref TEXT NOT NULL, primary_tx_id TEXT,
      secondary_tx_id TEXT, id_tag TEXT, updated_at INTEGER NOT NULL,
      PRIMARY KEY (charger_id, secondary_key, start_ref)) WITHOUT ROWID;
    CREATE INDEX transaction_links_by_primary_tx ON transaction_links (charger_id, secondary_key, primary_tx_id);
    CREATE TABLE last_boot (charger_id TEXT NOT NULL PRIMARY KEY, frame TEXT NOT NULL, saved_at INTEGER NOT NULL);
  `;
  const ID_TOKEN_2X = '{"idToken":{"idToken":"X1","type":"ISO14443"},"remoteStartId":7}';
  const OUTBOX_V1 = [
    ['CP-1', 'name:a', 3, '[2,"id-3","StartTransaction",{"idTag":"ÄBC-✓"}]', 'StartTransaction', 'transaction', 'ref-1', null, T0 + 3],
    ['CP-1', 'name:a', 7, '[2,"id-7","MeterValues",{"connectorId":1}]', 'MeterValues', 'droppable', null, '42', T0 + 7],
    ['CP-1', 'name:a', 8, '[ 2 , "id-8" , "StopTransaction" , {} ]', 'StopTransaction', 'transaction', null, '42', T0 + 8],
    ['CP-1', 'name:b', 1, '[2,"id-b1","Heartbeat",{}]', 'Heartbeat', 'droppable', null, null, T0 + 1],
    // A type spelled `2.0`: valid JSON the head scanner declines; the full parser reads its id.
    ['CP-2', 'name:a', 5, '[2.0,"id-odd","Heartbeat",{}]', 'Heartbeat', 'droppable', null, null, T0 + 5],
  ] as const;

  function writeV1File(file: string): void {
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.exec(SCHEMA_V1);
      const outbox = db.prepare('INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const row of OUTBOX_V1) outbox.run(...row);
      const tags = db.prepare('INSERT INTO pending_id_tags VALUES (?, ?, ?, ?)');
      tags.run('CP-1', 'name:a', 'TAG-16', T0);
      tags.run('CP-1', 'name:b', ID_TOKEN_2X, T0);
      const links = db.prepare('INSERT INTO transaction_links VALUES (?, ?, ?, ?, ?, ?, ?)');
      links.run('CP-1', 'name:a', 'ref-1', '42', '501', 'TAG-16', T0);
      links.run('CP-1', 'name:b', 'ref-1', '42', null, ID_TOKEN_2X, T0 + 1);
      links.run('CP-2', 'name:a', 'ref-2', null, null, null, T0);
      const boots = db.prepare('INSERT INTO last_boot VALUES (?, ?, ?)');
      boots.run('CP-1', '[2,"b1","BootNotification",{}]', T0);
      boots.run('CP-2', '[2,"b2","BootNotification",{}]', T0);
      db.pragma('user_version = 1');
    } finally {
      db.close();
    }
  }

  it('converts a version 1 file without losing a row', async () => {
    const dataDir = temporaryDirectory();
    const file = path.join(dataDir, DEFAULT_STORE_FILE_NAME);
    writeV1File(file);
    const now = T0 + 60_000;
    const store = open({ dataDir, now: () => now });

    const a = await store.read(A, 0, 100, 1_000_000);
    expect(a).toEqual(
      OUTBOX_V1.slice(0, 3).map(([, , , frame, action, priority, startRef, txRef, enqueuedAt], i) => ({
        seq: a[i]?.seq,
        frame,
        messageId: ['id-3', 'id-7', 'id-8'][i],
        action,
        kind: 'call',
        priority,
        startRef,
        txRef,
        enqueuedAt,
        bytes: Buffer.byteLength(frame),
      })),
    );
    expect(a.map((r) => r.seq)).toEqual([...a.map((r) => r.seq)].sort((x, y) => x - y));
    expect(await store.stats(A)).toEqual({
      messages: 3,
      bytes: a.reduce((sum, r) => sum + r.bytes, 0),
      oldestEnqueuedAt: T0 + 3,
    });
    expect((await store.read({ chargerId: 'CP-1', secondaryKey: 'name:b' }, 0, 100, 1_000_000)).map((r) => r.messageId)).toEqual(['id-b1']);
    expect((await store.read({ chargerId: 'CP-2', secondaryKey: 'name:a' }, 0, 100, 1_000_000)).map((r) => r.messageId)).toEqual(['id-odd']);

    const idToken2x = { version: '2.x', idToken: { idToken: 'X1', type: 'ISO14443' }, remoteStartId: 7 };
    expect(await store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toEqual({
      startRef: 'ref-1',
      primaryTxId: '42',
      secondaryTxId: '501',
      remoteStart: { version: '1.6', idTag: 'TAG-16' },
      stoppedAt: null,
    });
    expect(await store.findTransactionLinkByPrimaryId('CP-1', 'name:b', '42')).toEqual({
      startRef: 'ref-1',
      primaryTxId: '42',
      secondaryTxId: null,
      remoteStart: idToken2x,
      stoppedAt: null,
    });
    expect(await store.findTransactionLinkByStartRef('CP-2', 'name:a', 'ref-2')).toEqual({
      startRef: 'ref-2',
      primaryTxId: null,
      secondaryTxId: null,
      remoteStart: null,
      stoppedAt: null,
    });
    expect(await store.loadLastBoot('CP-1')).toBe('[2,"b1","BootNotification",{}]');
    expect(await store.loadLastBoot('CP-2')).toBe('[2,"b2","BootNotification",{}]');
    const fence = await store.acquireLease('CP-1', 'owner-1', 60_000);
    if (fence === undefined) throw new Error('no lease');
    expect(await store.takePendingRemoteStart('CP-1', 'name:a', fence)).toEqual({ version: '1.6', idTag: 'TAG-16' });
    expect(await store.takePendingRemoteStart('CP-1', 'name:b', fence)).toEqual(idToken2x);

    // New entries follow the converted ones.
    const { seq } = await store.append(A, entry(100), ROOMY);
    expect(seq).toBeGreaterThan(Math.max(...a.map((r) => r.seq)));
    // Every charger of the file counts as seen at the upgrade: nothing is stale yet.
    expect(await store.prune({ now, retentionMs: 24 * 3_600_000, stoppedLinkGraceMs: 3_600_000, configuredSecondaries: ['name:a', 'name:b'] })).toEqual({
      staleOutboxEntries: 0,
      orphanOutboxEntries: 0,
      transactionLinks: 0,
      remoteStarts: 0,
      lastBoots: 0,
    });

    const check = new Database(file, { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(2);
      const count = (table: string): unknown => check.prepare(`SELECT count(*) AS n FROM ${table}`).get();
      expect(count('outbox')).toEqual({ n: OUTBOX_V1.length + 1 });
      expect(count('transaction_links')).toEqual({ n: 3 });
      expect(count('last_boot')).toEqual({ n: 2 });
      expect(count('remote_starts')).toEqual({ n: 0 });
    } finally {
      check.close();
    }
  });

  it('opens a converted file again without converting it twice', async () => {
    const dataDir = temporaryDirectory();
    writeV1File(path.join(dataDir, DEFAULT_STORE_FILE_NAME));
    const first = openSqliteStore({ dataDir });
    const before = await first.read(A, 0, 100, 1_000_000);
    await first.close();
    const second = open({ dataDir });
    expect(await second.read(A, 0, 100, 1_000_000)).toEqual(before);
  });
});

describe('openSqliteStore: refusals', () => {
  function expectOpenError(options: Partial<SqliteStoreOptions>): StoreError {
    let caught: unknown;
    try {
      open(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    if (!(caught instanceof StoreError)) throw new Error('unreachable');
    expect(caught.code).toBe(ErrorCode.StoreUnavailable);
    return caught;
  }

  it('refuses a data directory that is a file, naming the path and the OS reason', () => {
    const dataDir = path.join(temporaryDirectory(), 'not-a-dir');
    fs.writeFileSync(dataDir, 'x');
    const error = expectOpenError({ dataDir });
    expect(error.message).toContain(path.join(dataDir, DEFAULT_STORE_FILE_NAME));
    expect(error.message).toMatch(/EEXIST|ENOTDIR/);
    expect(error.message).not.toContain('\n');
  });

  it('refuses a database path that is a directory', () => {
    const dataDir = temporaryDirectory();
    fs.mkdirSync(path.join(dataDir, DEFAULT_STORE_FILE_NAME));
    const error = expectOpenError({ dataDir });
    expect(error.message).toContain(path.join(dataDir, DEFAULT_STORE_FILE_NAME));
    expect(error.message).toMatch(/SQLITE_CANTOPEN/);
  });

  it('refuses a file that is not a database', () => {
    const dataDir = temporaryDirectory();
    fs.writeFileSync(path.join(dataDir, DEFAULT_STORE_FILE_NAME), 'this is not a database '.repeat(100));
    expect(expectOpenError({ dataDir }).message).toMatch(/SQLITE_NOTADB/);
  });

  it('refuses a schema version newer than it knows, and leaves the file as it was', () => {
    const dataDir = temporaryDirectory();
    const file = path.join(dataDir, DEFAULT_STORE_FILE_NAME);
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();

    const error = expectOpenError({ dataDir });
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/schema version 99 .*\(2\)/);

    const check = new Database(file);
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(99);
      expect(check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()).toEqual({ n: 0 });
    } finally {
      check.close();
    }
  });

  it('refuses options out of range, naming the option', () => {
    const dataDir = temporaryDirectory();
    expect(() => openSqliteStore({ dataDir, commitIntervalMs: -1 })).toThrow(/commitIntervalMs/);
    expect(() => openSqliteStore({ dataDir, maxPendingBytes: 0 })).toThrow(/maxPendingBytes/);
    expect(() => openSqliteStore({ dataDir, maxPageCount: 1.5 })).toThrow(/maxPageCount/);
  });
});

describe('secondaryStoreKey', () => {
  it('uses the name when one is set', () => {
    expect(secondaryStoreKey({ url: 'wss://a.example/ocpp', name: 'backup' })).toBe('name:backup');
    expect(secondaryStoreKey({ url: 'wss://b.example/other', name: 'backup' })).toBe('name:backup');
  });

  it('is a stable short hash of the URL otherwise', () => {
    const key = secondaryStoreKey({ url: 'wss://csms.example.com/ocpp' });
    expect(key).toMatch(/^url:[0-9a-f]{16}$/);
    expect(secondaryStoreKey({ url: 'wss://csms.example.com/ocpp' })).toBe(key);
    // WHATWG normalisation: the same endpoint spelled differently is the same secondary.
    expect(secondaryStoreKey({ url: 'WSS://CSMS.example.com:443/ocpp' })).toBe(key);
    expect(secondaryStoreKey({ url: 'wss://csms.example.com/ocpp2' })).not.toBe(key);
    expect(secondaryStoreKey({ url: 'wss://csms.example.com/ocpp?tenant=2' })).not.toBe(key);
  });

  it('ignores and never reveals credentials', () => {
    const plain = secondaryStoreKey({ url: 'wss://csms.example.com/ocpp' });
    const withUser = secondaryStoreKey({ url: 'wss://user:s3cret@csms.example.com/ocpp' });
    expect(withUser).toBe(plain);
    expect(secondaryStoreKey({ url: 'wss://user:rotated@csms.example.com/ocpp' })).toBe(plain);
    const withToken = secondaryStoreKey({ url: 'wss://csms.example.com/ocpp?token=s3cret' });
    expect(withToken).not.toContain('s3cret');
    expect(withToken).toMatch(/^url:[0-9a-f]{16}$/);
  });

  it('refuses an invalid URL without echoing its credentials', () => {
    let caught: unknown;
    try {
      secondaryStoreKey({ url: 'wss://user:pa/ss@csms.example.com:notaport/ocpp' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: ErrorCode.ConfigInvalid });
    expect(String(caught)).not.toContain('pa/ss');
  });
});

/** A child's stdout lines as promises, and its exit. */
function watchChild(child: ChildProcess): {
  line: (prefix: string) => Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines: string[] = [];
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  if (child.stdout !== null) {
    createInterface({ input: child.stdout }).on('line', (text) => {
      lines.push(text);
      for (const waiter of waiters.filter((w) => text.startsWith(w.prefix))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(text);
      }
    });
  }
  return {
    exited,
    line: (prefix) => {
      const seen = lines.find((text) => text.startsWith(prefix));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ prefix, resolve });
        void exited.then(({ code, signal }) => reject(new Error(`child exited (${String(code ?? signal)}) before "${prefix}": ${stderr}`)));
      });
    },
  };
}
