import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, StoreError } from '../../src/errors.js';
import {
  DEFAULT_STORE_FILE_NAME,
  openSqliteStore,
  secondaryStoreKey,
  type SqliteMirrorStore,
  type SqliteStoreOptions,
} from '../../src/store/sqlite-store.js';
import type { OutboxRecord, TransactionLink } from '../../src/store/store.js';

/** Stores and directories a test opened; closed and removed after each test. */
const stores: SqliteMirrorStore[] = [];
const directories: string[] = [];

afterEach(() => {
  vi.useRealTimers();
  for (const store of stores.splice(0)) store.close();
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

function record(seq: number, overrides: Partial<OutboxRecord> = {}): OutboxRecord {
  return {
    seq,
    frame: JSON.stringify([2, `m-${seq}`, 'MeterValues', { connectorId: 1, meterValue: [] }]),
    action: 'MeterValues',
    priority: 'droppable',
    startRef: null,
    txRef: 'tx-1',
    enqueuedAt: 1_700_000_000_000 + seq,
    ...overrides,
  };
}

function link(startRef: string, overrides: Partial<TransactionLink> = {}): TransactionLink {
  return { startRef, primaryTxId: null, secondaryTxId: null, idTag: null, ...overrides };
}

/** Resolves after the current event-loop turn's immediates (the store's scheduled flush among them). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function expectStoreError(action: () => unknown, code: ErrorCode): StoreError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StoreError);
  if (!(caught instanceof StoreError)) throw new Error('unreachable');
  expect(caught.code).toBe(code);
  return caught;
}

/** A store that fails writes like a full disk: the file may not grow beyond its schema. */
function openFullDisk(onWriteError: SqliteStoreOptions['onWriteError']): SqliteMirrorStore {
  // SQLite never lowers max_page_count below the current size, so 1 means "exactly the schema".
  return open({ maxPageCount: 1, onWriteError });
}

/** Frames big enough that a few of them need new pages. */
const BIG_FRAME = JSON.stringify([2, 'big', 'DataTransfer', { data: 'x'.repeat(2_000) }]);

describe('SqliteMirrorStore: round trips', () => {
  it('appends, loads and deletes outbox records with every field', () => {
    const store = open();
    const start = record(1, {
      action: 'StartTransaction',
      priority: 'transaction',
      startRef: 'ref-1',
      txRef: null,
      frame: '[2,"s","StartTransaction",{"idTag":"ÄBC-✓"}]',
    });
    store.appendOutbox('CP-1', 'name:a', start);
    store.appendOutbox('CP-1', 'name:a', record(2));
    expect(store.loadOutbox('CP-1', 'name:a')).toEqual([start, record(2)]);

    store.deleteOutbox('CP-1', 'name:a', 1);
    expect(store.loadOutbox('CP-1', 'name:a')).toEqual([record(2)]);
    store.deleteOutbox('CP-1', 'name:a', 99); // unknown seq: nothing to do
    expect(store.loadOutbox('CP-1', 'name:a')).toEqual([record(2)]);
  });

  it('orders the outbox by seq and keeps (charger, secondary) pairs apart', () => {
    const store = open();
    for (const seq of [3, 1, 2]) store.appendOutbox('CP-1', 'name:a', record(seq));
    store.appendOutbox('CP-1', 'name:b', record(1, { action: 'Heartbeat' }));
    store.appendOutbox('CP-2', 'name:a', record(7));

    expect(store.loadOutbox('CP-1', 'name:a').map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(store.loadOutbox('CP-1', 'name:b')).toEqual([record(1, { action: 'Heartbeat' })]);
    expect(store.loadOutbox('CP-2', 'name:a')).toEqual([record(7)]);
    expect(store.loadOutbox('CP-2', 'name:b')).toEqual([]);

    store.deleteOutbox('CP-1', 'name:b', 1);
    expect(store.loadOutbox('CP-1', 'name:b')).toEqual([]);
    expect(store.loadOutbox('CP-1', 'name:a').map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('takePendingIdTag returns the latest saved tag once, per (charger, secondary)', () => {
    const store = open();
    expect(store.takePendingIdTag('CP-1', 'name:a')).toBeUndefined();
    store.savePendingIdTag('CP-1', 'name:a', 'OLD');
    store.savePendingIdTag('CP-1', 'name:a', 'NEW');
    store.savePendingIdTag('CP-1', 'name:b', 'OTHER');
    expect(store.takePendingIdTag('CP-1', 'name:a')).toBe('NEW');
    expect(store.takePendingIdTag('CP-1', 'name:a')).toBeUndefined();
    expect(store.takePendingIdTag('CP-1', 'name:b')).toBe('OTHER');
  });

  it('creates, replaces, updates and deletes transaction links', () => {
    const store = open();
    store.putTransactionLink('CP-1', 'name:a', link('ref-1', { idTag: '{"idToken":"X","type":"ISO14443"}' }));
    expect(store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toEqual(
      link('ref-1', { idTag: '{"idToken":"X","type":"ISO14443"}' }),
    );

    store.putTransactionLink('CP-1', 'name:a', link('ref-1', { idTag: 'TAG' }));
    store.setSecondaryTransactionId('CP-1', 'name:a', 'ref-1', '501');
    expect(store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toEqual(
      link('ref-1', { idTag: 'TAG', secondaryTxId: '501' }),
    );
    expect(store.findTransactionLinkByStartRef('CP-1', 'name:b', 'ref-1')).toBeUndefined();

    store.deleteTransactionLink('CP-1', 'name:a', 'ref-1');
    expect(store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toBeUndefined();
  });

  it("setPrimaryTransactionId updates every secondary's link with that startRef, and only those", () => {
    const store = open();
    store.putTransactionLink('CP-1', 'name:a', link('ref-1'));
    store.putTransactionLink('CP-1', 'name:b', link('ref-1', { secondaryTxId: '9' }));
    store.putTransactionLink('CP-1', 'name:a', link('ref-2'));
    store.putTransactionLink('CP-2', 'name:a', link('ref-1'));
    store.setPrimaryTransactionId('CP-1', 'ref-1', '42');

    expect(store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')?.primaryTxId).toBe('42');
    expect(store.findTransactionLinkByStartRef('CP-1', 'name:b', 'ref-1')).toEqual(
      link('ref-1', { primaryTxId: '42', secondaryTxId: '9' }),
    );
    expect(store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-2')?.primaryTxId).toBeNull();
    expect(store.findTransactionLinkByStartRef('CP-2', 'name:a', 'ref-1')?.primaryTxId).toBeNull();
  });

  it('finds a link by the primary transaction id, per secondary, the latest when an id is reused', () => {
    const store = open();
    store.putTransactionLink('CP-1', 'name:a', link('ref-1', { primaryTxId: '42', secondaryTxId: 'a-1' }));
    store.putTransactionLink('CP-1', 'name:b', link('ref-1', { primaryTxId: '42', secondaryTxId: 'b-1' }));
    expect(store.findTransactionLinkByPrimaryId('CP-1', 'name:a', '42')?.secondaryTxId).toBe('a-1');
    expect(store.findTransactionLinkByPrimaryId('CP-1', 'name:b', '42')?.secondaryTxId).toBe('b-1');
    expect(store.findTransactionLinkByPrimaryId('CP-1', 'name:a', '43')).toBeUndefined();
    expect(store.findTransactionLinkByPrimaryId('CP-2', 'name:a', '42')).toBeUndefined();

    // A primary that restarted its counter hands out 42 again for a later transaction.
    // updated_at has millisecond resolution: make the later put visibly later.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 1_000 });
    store.putTransactionLink('CP-1', 'name:a', link('ref-2', { primaryTxId: '42', secondaryTxId: 'a-2' }));
    expect(store.findTransactionLinkByPrimaryId('CP-1', 'name:a', '42')?.startRef).toBe('ref-2');
  });

  it('saves and loads the last BootNotification per charger, the newest replacing the older', () => {
    const store = open();
    expect(store.loadLastBoot('CP-1')).toBeUndefined();
    store.saveLastBoot('CP-1', '[2,"1","BootNotification",{"chargePointVendor":"A","chargePointModel":"M"}]');
    store.saveLastBoot('CP-1', '[2,"2","BootNotification",{"chargePointVendor":"B","chargePointModel":"M"}]');
    store.saveLastBoot('CP-2', '[2,"9","BootNotification",{}]');
    expect(store.loadLastBoot('CP-1')).toBe('[2,"2","BootNotification",{"chargePointVendor":"B","chargePointModel":"M"}]');
    expect(store.loadLastBoot('CP-2')).toBe('[2,"9","BootNotification",{}]');
  });
});

describe('SqliteMirrorStore: batching', () => {
  it('reads its own writes without an explicit flush', () => {
    const store = open();
    store.appendOutbox('CP-1', 'name:a', record(1));
    store.savePendingIdTag('CP-1', 'name:a', 'TAG');
    store.putTransactionLink('CP-1', 'name:a', link('ref-1'));
    store.saveLastBoot('CP-1', '[2,"1","BootNotification",{}]');
    expect(store.pendingWrites).toBe(4);

    expect(store.loadOutbox('CP-1', 'name:a')).toEqual([record(1)]);
    expect(store.pendingWrites).toBe(0);
    expect(store.takePendingIdTag('CP-1', 'name:a')).toBe('TAG');
    expect(store.findTransactionLinkByStartRef('CP-1', 'name:a', 'ref-1')).toEqual(link('ref-1'));
    expect(store.loadLastBoot('CP-1')).toBe('[2,"1","BootNotification",{}]');
  });

  it('commits all the writes of one event-loop turn in one transaction, scheduled once', async () => {
    const store = open();
    const scheduled = vi.spyOn(globalThis, 'setImmediate');
    for (let seq = 0; seq < 1_000; seq += 1) store.appendOutbox(`CP-${seq % 7}`, 'name:a', record(seq));
    store.saveLastBoot('CP-1', '[2,"1","BootNotification",{}]');
    expect(scheduled).toHaveBeenCalledTimes(1);
    scheduled.mockRestore();
    expect(store.pendingWrites).toBe(1_001);
    expect(store.flushCount).toBe(0);

    await nextTurn();
    expect(store.pendingWrites).toBe(0);
    expect(store.flushCount).toBe(1);

    // The next turn's writes are the next transaction.
    store.deleteOutbox('CP-0', 'name:a', 0);
    store.deleteOutbox('CP-0', 'name:a', 7);
    await nextTurn();
    expect(store.flushCount).toBe(2);
    expect(store.loadOutbox('CP-0', 'name:a')[0]?.seq).toBe(14);
  });

  it('does not commit again when a read already flushed the turn', async () => {
    const store = open();
    store.appendOutbox('CP-1', 'name:a', record(1));
    store.loadOutbox('CP-1', 'name:a');
    expect(store.flushCount).toBe(1);
    await nextTurn();
    expect(store.flushCount).toBe(1);
    store.flush(); // nothing pending: no empty transaction
    expect(store.flushCount).toBe(1);
  });
});

describe('SqliteMirrorStore: durability', () => {
  it('keeps everything across close and reopen, including writes pending at close', () => {
    const dataDir = temporaryDirectory();
    const first = openSqliteStore({ dataDir });
    first.appendOutbox('CP-1', 'name:a', record(1));
    first.appendOutbox('CP-1', 'name:a', record(2));
    first.savePendingIdTag('CP-1', 'name:a', 'TAG');
    first.putTransactionLink('CP-1', 'name:a', link('ref-1', { primaryTxId: '42', secondaryTxId: '7', idTag: 'T' }));
    first.saveLastBoot('CP-1', '[2,"1","BootNotification",{}]');
    expect(first.pendingWrites).toBe(5);
    first.close();
    expect(fs.existsSync(path.join(dataDir, DEFAULT_STORE_FILE_NAME))).toBe(true);

    const second = open({ dataDir });
    expect(second.loadOutbox('CP-1', 'name:a')).toEqual([record(1), record(2)]);
    expect(second.takePendingIdTag('CP-1', 'name:a')).toBe('TAG');
    expect(second.findTransactionLinkByPrimaryId('CP-1', 'name:a', '42')).toEqual(
      link('ref-1', { primaryTxId: '42', secondaryTxId: '7', idTag: 'T' }),
    );
    expect(second.loadLastBoot('CP-1')).toBe('[2,"1","BootNotification",{}]');
  });

  it('creates a missing data directory and uses fileName', () => {
    const dataDir = path.join(temporaryDirectory(), 'a', 'b');
    const store = open({ dataDir, fileName: 'custom.db' });
    store.saveLastBoot('CP-1', 'x');
    store.close();
    expect(fs.existsSync(path.join(dataDir, 'custom.db'))).toBe(true);
  });

  it('writes schema version 1 in WAL mode', () => {
    const dataDir = temporaryDirectory();
    open({ dataDir }).close();
    const db = new Database(path.join(dataDir, DEFAULT_STORE_FILE_NAME));
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('keeps what was flushed when the process is killed with SIGKILL', async () => {
    const compiled = fileURLToPath(new URL('../../dist/store/sqlite-store.js', import.meta.url));
    if (!fs.existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` (npm test does it)`);
    const dataDir = temporaryDirectory();
    // The child never closes the store: the committed transactions live only in the WAL when it dies.
    const script = `
      const [moduleUrl, dataDir] = process.argv.slice(1);
      const { openSqliteStore } = await import(moduleUrl);
      const store = openSqliteStore({ dataDir });
      for (let seq = 0; seq < 500; seq += 1) {
        store.appendOutbox('CP-1', 'name:a', {
          seq, frame: '[2,"' + seq + '","Heartbeat",{}]', action: 'Heartbeat', priority: 'droppable',
          startRef: null, txRef: null, enqueuedAt: seq,
        });
      }
      store.putTransactionLink('CP-1', 'name:a', { startRef: 'ref-1', primaryTxId: '42', secondaryTxId: null, idTag: null });
      store.saveLastBoot('CP-1', 'boot');
      setImmediate(() => {
        process.stdout.write('flushed ' + store.flushCount + ' ' + store.pendingWrites + '\\n');
        setInterval(() => {}, 60_000);
      });
    `;
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', script, new URL(`file://${compiled}`).href, dataDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const line = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve(stdout.trim());
      });
      child.once('exit', (code) => reject(new Error(`child exited (${String(code)}) before flushing: ${stderr}`)));
    });
    expect(line).toBe('flushed 1 0');
    child.kill('SIGKILL');
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });

    const store = open({ dataDir });
    const outbox = store.loadOutbox('CP-1', 'name:a');
    expect(outbox.map((r) => r.seq)).toEqual(Array.from({ length: 500 }, (_, seq) => seq));
    expect(outbox[499]?.frame).toBe('[2,"499","Heartbeat",{}]');
    expect(store.findTransactionLinkByPrimaryId('CP-1', 'name:a', '42')?.startRef).toBe('ref-1');
    expect(store.loadLastBoot('CP-1')).toBe('boot');
  });
});

describe('SqliteMirrorStore: write failures', () => {
  it('reports a failed scheduled flush, keeps every write, and commits them once space is back', async () => {
    const refTimers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const refTimersBefore = refTimers();
    const reports: Array<{ error: StoreError; pending: number }> = [];
    let reported: () => void = () => undefined;
    const firstReport = new Promise<void>((resolve) => (reported = resolve));
    const store = openFullDisk((error, pending) => {
      reports.push({ error, pending });
      reported();
    });

    for (let seq = 0; seq < 50; seq += 1) store.appendOutbox('CP-1', 'name:a', record(seq, { frame: BIG_FRAME }));
    store.saveLastBoot('CP-1', 'boot');
    await firstReport; // the setImmediate flush failed without throwing into the event loop

    expect(reports).toHaveLength(1);
    expect(reports[0]?.error.code).toBe(ErrorCode.StoreWriteFailed);
    expect(reports[0]?.error.message).toMatch(/SQLITE_FULL/);
    expect(reports[0]?.error.message).toContain(store.filePath);
    expect(reports[0]?.pending).toBe(51);
    expect(store.healthy).toBe(false);
    expect(store.pendingWrites).toBe(51);
    expect(store.flushCount).toBe(0);
    // The retry timer is unref'd: a failing disk never keeps the process alive.
    expect(refTimers()).toBe(refTimersBefore);

    // An explicit flush reports as well, then throws; a read cannot answer without its own writes.
    expectStoreError(() => store.flush(), ErrorCode.StoreWriteFailed);
    expectStoreError(() => store.loadOutbox('CP-1', 'name:a'), ErrorCode.StoreWriteFailed);
    expect(reports).toHaveLength(3);
    expect(store.pendingWrites).toBe(51);

    store.setMaxPageCount(1_000_000);
    store.flush();
    expect(store.healthy).toBe(true);
    expect(store.pendingWrites).toBe(0);
    expect(store.loadOutbox('CP-1', 'name:a').map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, seq) => seq));
    expect(store.loadLastBoot('CP-1')).toBe('boot');
    expect(reports).toHaveLength(3);
  });

  it('retries after 1 s, then 2 s, …, and meanwhile batches new writes into the retry', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const reports: number[] = [];
    let reported: () => void = () => undefined;
    const firstReport = new Promise<void>((resolve) => (reported = resolve));
    const store = openFullDisk((_error, pending) => {
      reports.push(pending);
      reported();
    });

    for (let seq = 0; seq < 50; seq += 1) store.appendOutbox('CP-1', 'name:a', record(seq, { frame: BIG_FRAME }));
    await firstReport;
    expect(reports).toEqual([50]);

    // While the retry is due, a new write schedules no flush of its own.
    store.appendOutbox('CP-1', 'name:a', record(50));
    await nextTurn();
    expect(reports).toEqual([50]);

    vi.advanceTimersByTime(999);
    expect(reports).toEqual([50]);
    vi.advanceTimersByTime(1);
    expect(reports).toEqual([50, 51]);
    vi.advanceTimersByTime(1_999);
    expect(reports).toEqual([50, 51]);
    vi.advanceTimersByTime(1);
    expect(reports).toEqual([50, 51, 51]);

    store.setMaxPageCount(1_000_000);
    vi.advanceTimersByTime(4_000);
    expect(store.healthy).toBe(true);
    expect(store.pendingWrites).toBe(0);
    expect(reports).toEqual([50, 51, 51]);
    expect(vi.getTimerCount()).toBe(0);
    expect(store.loadOutbox('CP-1', 'name:a')).toHaveLength(51);

    // Healthy again: the next turn's writes flush on their own, and a later failure starts over at 1 s.
    store.appendOutbox('CP-1', 'name:a', record(51));
    await nextTurn();
    expect(store.flushCount).toBe(2);
  });

  it('caps the retry delay at 30 s', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let reports = 0;
    let reported: () => void = () => undefined;
    const firstReport = new Promise<void>((resolve) => (reported = resolve));
    const store = openFullDisk(() => {
      reports += 1;
      reported();
    });
    for (let seq = 0; seq < 50; seq += 1) store.appendOutbox('CP-1', 'name:a', record(seq, { frame: BIG_FRAME }));
    await firstReport;
    // 1 + 2 + 4 + 8 + 16 s, then 30 s each.
    vi.advanceTimersByTime(1_000 + 2_000 + 4_000 + 8_000 + 16_000);
    expect(reports).toBe(6);
    vi.advanceTimersByTime(29_999);
    expect(reports).toBe(6);
    vi.advanceTimersByTime(1);
    expect(reports).toBe(7);
    vi.advanceTimersByTime(30_000);
    expect(reports).toBe(8);
    expect(store.pendingWrites).toBe(50);
  });

  it('on close reports the writes it could not commit, and still closes', () => {
    const reports: StoreError[] = [];
    const store = openFullDisk((error) => reports.push(error));
    for (let seq = 0; seq < 50; seq += 1) store.appendOutbox('CP-1', 'name:a', record(seq, { frame: BIG_FRAME }));
    store.close();
    expect(reports).toHaveLength(1);
    expect(reports[0]?.code).toBe(ErrorCode.StoreWriteFailed);
    expect(reports[0]?.message).toMatch(/lost/);
    expect(store.pendingWrites).toBe(0);
    expectStoreError(() => store.loadOutbox('CP-1', 'name:a'), ErrorCode.StoreUnavailable);
  });

  it('drops and reports an append whose seq is already stored, without blocking the rest of the batch', () => {
    const reports: StoreError[] = [];
    const store = open({ onWriteError: (error) => reports.push(error) });
    store.appendOutbox('CP-1', 'name:a', record(1, { action: 'First' }));
    store.flush();
    store.appendOutbox('CP-1', 'name:a', record(1, { action: 'Second' }));
    store.appendOutbox('CP-1', 'name:a', record(2));
    store.flush();

    expect(store.healthy).toBe(true);
    expect(store.loadOutbox('CP-1', 'name:a')).toEqual([record(1, { action: 'First' }), record(2)]);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.code).toBe(ErrorCode.StoreWriteFailed);
    expect(reports[0]?.message).toContain('charger CP-1, secondary name:a, seq 1');
  });

  it('refuses a seq or timestamp that is not an integer, before it can reach the batch', () => {
    const store = open();
    expect(() => store.appendOutbox('CP-1', 'name:a', record(Number.NaN))).toThrow(RangeError);
    expect(() => store.appendOutbox('CP-1', 'name:a', record(1.5))).toThrow(RangeError);
    expect(() => store.appendOutbox('CP-1', 'name:a', record(1, { enqueuedAt: Number.POSITIVE_INFINITY }))).toThrow(
      RangeError,
    );
    expect(store.pendingWrites).toBe(0);
  });
});

describe('openSqliteStore: refusals', () => {
  it('refuses a data directory that is a file, naming the path and the OS reason', () => {
    const dataDir = path.join(temporaryDirectory(), 'not-a-dir');
    fs.writeFileSync(dataDir, 'x');
    const error = expectStoreError(() => open({ dataDir }), ErrorCode.StoreUnavailable);
    expect(error.message).toContain(path.join(dataDir, DEFAULT_STORE_FILE_NAME));
    expect(error.message).toMatch(/EEXIST|ENOTDIR/);
    expect(error.message).not.toContain('\n');
  });

  it('refuses a database path that is a directory', () => {
    const dataDir = temporaryDirectory();
    fs.mkdirSync(path.join(dataDir, DEFAULT_STORE_FILE_NAME));
    const error = expectStoreError(() => open({ dataDir }), ErrorCode.StoreUnavailable);
    expect(error.message).toContain(path.join(dataDir, DEFAULT_STORE_FILE_NAME));
    expect(error.message).toMatch(/SQLITE_CANTOPEN/);
  });

  it('refuses a file that is not a database', () => {
    const dataDir = temporaryDirectory();
    fs.writeFileSync(path.join(dataDir, DEFAULT_STORE_FILE_NAME), 'this is not a database '.repeat(100));
    const error = expectStoreError(() => open({ dataDir }), ErrorCode.StoreUnavailable);
    expect(error.message).toMatch(/SQLITE_NOTADB/);
  });

  it('refuses a schema version newer than it knows, and leaves the file as it was', () => {
    const dataDir = temporaryDirectory();
    const file = path.join(dataDir, DEFAULT_STORE_FILE_NAME);
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();

    const error = expectStoreError(() => open({ dataDir }), ErrorCode.StoreUnavailable);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/schema version 99 .*\(1\)/);

    const check = new Database(file);
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(99);
      expect(check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()).toEqual({ n: 0 });
    } finally {
      check.close();
    }
  });
});

describe('SqliteMirrorStore: close', () => {
  it('is idempotent, and every method throws StoreUnavailable afterwards', () => {
    const store = open();
    store.close();
    store.close();
    const calls: Array<() => unknown> = [
      () => store.loadOutbox('CP-1', 'name:a'),
      () => store.appendOutbox('CP-1', 'name:a', record(1)),
      () => store.deleteOutbox('CP-1', 'name:a', 1),
      () => store.savePendingIdTag('CP-1', 'name:a', 'T'),
      () => store.takePendingIdTag('CP-1', 'name:a'),
      () => store.putTransactionLink('CP-1', 'name:a', link('r')),
      () => store.setPrimaryTransactionId('CP-1', 'r', '1'),
      () => store.setSecondaryTransactionId('CP-1', 'name:a', 'r', '1'),
      () => store.findTransactionLinkByStartRef('CP-1', 'name:a', 'r'),
      () => store.findTransactionLinkByPrimaryId('CP-1', 'name:a', '1'),
      () => store.deleteTransactionLink('CP-1', 'name:a', 'r'),
      () => store.saveLastBoot('CP-1', 'x'),
      () => store.loadLastBoot('CP-1'),
      () => store.flush(),
      () => store.setMaxPageCount(10),
    ];
    for (const call of calls) {
      expect(expectStoreError(call, ErrorCode.StoreUnavailable).message).toBe('store is closed');
    }
  });

  it('leaves no scheduled flush or retry timer behind', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let reported: () => void = () => undefined;
    const firstReport = new Promise<void>((resolve) => (reported = resolve));
    const store = openFullDisk(() => reported());
    for (let seq = 0; seq < 50; seq += 1) store.appendOutbox('CP-1', 'name:a', record(seq, { frame: BIG_FRAME }));
    await firstReport;
    expect(vi.getTimerCount()).toBe(1);
    store.close();
    expect(vi.getTimerCount()).toBe(0);
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
