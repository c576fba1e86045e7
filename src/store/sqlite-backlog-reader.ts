/**
 * `backlog()` of the SQLite store, read on a worker thread with a read-only connection of its own: the query
 * visits every outbox entry (a secondary down for hours can leave a million), and better-sqlite3 is
 * synchronous, so on the main thread it would stop every charger's frames for as long as it runs (measured:
 * 2 s at a million entries). WAL mode lets this reader run beside the writer without blocking it.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { StreamBacklog } from './store.js';

/** The reader's own connection waits this long for a lock before it fails the read (the caller keeps its last value). */
const READER_BUSY_TIMEOUT_MS = 1_000;

/** Runs in the worker: CommonJS (an `eval` worker), so that the same text works from src/ (tests) and dist/. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
let statement;
parentPort.on('message', ({ id }) => {
  try {
    if (db === undefined) {
      db = new Database(workerData.filePath, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = ${READER_BUSY_TIMEOUT_MS}');
      statement = db.prepare(
        'SELECT charger_id, secondary_key, count(*) AS messages, sum(bytes) AS bytes, min(enqueued_at) AS oldest FROM outbox GROUP BY charger_id, secondary_key',
      );
    }
    const rows = statement.raw(true).all();
    parentPort.postMessage({ id, rows });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error), code: error && error.code });
  }
});
`;

type RawRow = [string, string, number, number, number];
type Reply = { readonly id: number; readonly rows: RawRow[] } | { readonly id: number; readonly error: string; readonly code?: string };

export class SqliteBacklogReader {
  readonly #filePath: string;
  #worker: Worker | undefined;
  readonly #pending = new Map<number, { resolve: (rows: StreamBacklog[]) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #closed = false;

  constructor(filePath: string) {
    this.#filePath = filePath;
  }

  /** Every outbox that holds entries; rejects when the reader cannot read (locked, gone, closed). */
  read(): Promise<StreamBacklog[]> {
    if (this.#closed) return Promise.reject(new Error('the store is closed'));
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id });
    });
  }

  /** Stops the worker; pending reads reject. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new Error('the store is closed'));
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, filePath: this.#filePath } });
    // An idle reader must not keep the process alive.
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#pending.delete(reply.id);
      if ('error' in reply) pending.reject(Object.assign(new Error(`backlog read failed: ${reply.error}`), { code: reply.code }));
      else pending.resolve(reply.rows.map(([chargerId, secondaryKey, messages, bytes, oldest]) => ({ chargerId, secondaryKey, messages, bytes, oldestEnqueuedAt: oldest })));
    });
    worker.on('error', (error) => {
      this.#worker = undefined;
      this.#failAll(error);
    });
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#failAll(new Error('the backlog reader stopped'));
    });
    this.#worker = worker;
    return worker;
  }

  #failAll(error: Error): void {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}
