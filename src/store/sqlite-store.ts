/**
 * The embedded {@link MirrorStore}: one SQLite file (better-sqlite3, WAL) per data directory,
 * shared by the processes of a cluster.
 *
 * Never waits for a lock: the busy timeout is 0 once the file is open, so a file locked by
 * another process answers SQLITE_BUSY at once, and the commit is retried later from a timer.
 *
 * Group commit (write-behind): every write is queued and the queue is committed in ONE
 * transaction `commitIntervalMs` after the first write of a batch (lease operations and prune
 * ask for the next turn instead). A write's promise settles once its commit is done: resolved
 * when committed, rejected when that write itself was refused (a stale fence: LeaseLost).
 * A commit that fails as a whole (locked, disk full, I/O error) rolls back, keeps every write
 * queued, reports through `onWriteError` and is retried with jittered exponential backoff:
 * a locked or full store only delays promises. What is queued is bounded by `maxPendingBytes`;
 * an append beyond it is refused at once (StoreOverloaded), so memory stays bounded while the
 * disk is failing.
 *
 * Reads run at once, synchronously (they are short index range scans), and see committed data
 * only — not writes still queued. A caller that awaited its write reads it.
 *
 * Durability: `journal_mode = WAL` + `synchronous = NORMAL`. A committed transaction survives a
 * crash or SIGKILL of the process (the WAL is written before the commit returns); on power loss
 * the last commits before the failure may be lost, but the file is never corrupted. Writes still
 * queued when the process dies are lost — they were never acknowledged to anyone.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { ConfigError, ErrorCode, StoreError } from '../errors.js';
import { backoffDelay } from '../links/backoff.js';
import { redactUrl } from '../util/redact-url.js';
import { migrate } from './sqlite-schema.js';
import { prepareStatements, type Statements } from './sqlite-statements.js';
import {
  decodeRemoteStart,
  encodeRemoteStart,
  integer,
  nullableText,
  text,
  toDroppedRecord,
  toOutboxRecord,
  toTransactionLink,
} from './sqlite-rows.js';
import { SqliteBacklogReader } from './sqlite-backlog-reader.js';
import type {
  AppendResult,
  DroppedRecord,
  Fence,
  LeaseGrant,
  MirrorStore,
  NewOutboxRecord,
  OutboxLimits,
  OutboxRecord,
  PrunePolicy,
  PruneReport,
  RemoteStartTag,
  StreamKey,
  StreamBacklog,
  StreamStats,
  TransactionLink,
} from './store.js';
import { checkInteger, checkLimits, checkReadWindow, checkRecord, checkRemoteStartTag, checkTtl } from './validate.js';
import { BUSY_RETRY_INITIAL_MS, BUSY_RETRY_MAX_MS, WriteQueue, type CommitInfo, type QueuedWrite } from './write-queue.js';

export type { CommitInfo } from './write-queue.js';

export const DEFAULT_STORE_FILE_NAME = 'ocpp-splitter.sqlite';

/**
 * Opening may wait this long for another process's lock (a migration, a commit): it runs once,
 * before the store serves anyone, and a cluster's workers open the same file at the same moment.
 */
const OPEN_BUSY_TIMEOUT_MS = 5_000;
/** Length of the URL hash in a secondary key: 64 bits, plenty for the handful of secondaries a proxy has. */
const URL_KEY_HASH_HEX_CHARS = 16;

/** SQLite primary result codes after which a commit is retried as a whole; any other error fails only its write. */
const RETRIED_SQLITE_CODES: ReadonlySet<string> = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_NOMEM',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
  'SQLITE_INTERRUPT',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
]);

export interface SqliteStoreOptions {
  /** Directory of the database file; created (recursively) when missing. */
  readonly dataDir: string;
  /** File name inside `dataDir`. */
  readonly fileName?: string;
  /** Delay between the first queued write and the commit of its batch (ms). */
  readonly commitIntervalMs?: number;
  /** Frame bytes (appends, boots) that may wait for a commit; an append beyond it is refused (StoreOverloaded). */
  readonly maxPendingBytes?: number;
  /**
   * Called once per failed commit with a StoreWriteFailed error (the SQLite code in its cause)
   * and the number of writes still queued. Must not throw and must not call back into the store.
   */
  readonly onWriteError?: (error: StoreError, pendingWrites: number) => void;
  /** Called after every successful commit (for metrics). Must not throw. */
  readonly onCommit?: (info: CommitInfo) => void;
  /** Test hook: `PRAGMA max_page_count`, to simulate a full disk. */
  readonly maxPageCount?: number;
  /** The clock for leases, activity and link times (epoch ms). */
  readonly now?: () => number;
}

const DEFAULTS = {
  fileName: DEFAULT_STORE_FILE_NAME,
  commitIntervalMs: 5,
  maxPendingBytes: 32 * 1024 * 1024,
} as const;

interface ResolvedOptions {
  readonly fileName: string;
  readonly commitIntervalMs: number;
  readonly maxPendingBytes: number;
  readonly onWriteError: (error: StoreError, pendingWrites: number) => void;
  readonly onCommit: (info: CommitInfo) => void;
  readonly now: () => number;
}

function resolveOptions(options: SqliteStoreOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    fileName: options.fileName ?? DEFAULTS.fileName,
    commitIntervalMs: options.commitIntervalMs ?? DEFAULTS.commitIntervalMs,
    maxPendingBytes: options.maxPendingBytes ?? DEFAULTS.maxPendingBytes,
    onWriteError: options.onWriteError ?? ((error) => process.emitWarning(error)),
    onCommit: options.onCommit ?? (() => undefined),
    now: options.now ?? Date.now,
  };
  checkInteger('commitIntervalMs', resolved.commitIntervalMs, 0);
  checkInteger('maxPendingBytes', resolved.maxPendingBytes, 1);
  if (options.maxPageCount !== undefined) checkInteger('maxPageCount', options.maxPageCount, 1);
  return resolved;
}

/** One outbox's size, as this process last knew it. */
interface StreamCount {
  readonly chargerId: string;
  messages: number;
  bytes: number;
}

interface LeaseRow {
  readonly owner: string | null;
  readonly token: number;
  readonly expiresAt: number;
}

/** A write failed in a way that may have left part of it applied: the batch is run again, each write isolated. */
class NeedsIsolation extends Error {}

/** What every write of one commit shares. */
interface CommitContext {
  /** The store's clock, read once per commit attempt. */
  readonly now: number;
  /** Lease rows read or written in this commit: a fence is checked against the table once per charger. */
  readonly leases: Map<string, LeaseRow | undefined>;
  /** Working copies of the outbox counts this commit changes; they become the cached counts once it commits. */
  counts: Map<string, StreamCount>;
  /** Chargers whose cached counts must be forgotten once this commit is done (a lease taken: others may have written). */
  readonly forgetCounts: Set<string>;
  /** A prune ran: every cached count is forgotten. */
  forgetAllCounts: boolean;
  /** Chargers seen in this commit (append, boot): their `last_seen` is written once, at the end. */
  readonly seen: Set<string>;
}

/** A write as a method prepares it: checked, sized, and what it does in the commit. */
interface WriteRequest<T> {
  readonly bytes: number;
  /** Commit in the next turn rather than after `commitIntervalMs` (leases, prune: someone waits for them). */
  readonly urgent?: boolean;
  readonly apply: (context: CommitContext) => T;
}

/** Opens (creating or upgrading if needed) the store file; throws StoreError(StoreUnavailable) naming the file and the reason. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteMirrorStore {
  return SqliteMirrorStore.open(options);
}

export class SqliteMirrorStore implements MirrorStore {
  readonly engine = 'sqlite';
  /** The database file (`dataDir` joined with `fileName`), named in every error message. */
  readonly filePath: string;

  readonly #db: Database.Database;
  readonly #options: ResolvedOptions;
  readonly #sql: Statements;
  readonly #queue: WriteQueue<CommitContext>;
  /** Outbox sizes as this process knows them (see `#countIn`). */
  readonly #counts = new Map<string, StreamCount>();
  /** Runs one write under a savepoint, so that a write that fails leaves nothing half done. */
  readonly #applyWrite: (write: QueuedWrite<CommitContext>, context: CommitContext) => () => void;
  /** Wakes read retries when the store closes. */
  readonly #abortOnClose = new AbortController();
  /** Set when `close()` is first called: from then on every call but `close` is refused. */
  #closing = false;
  #closePromise: Promise<void> | undefined;
  #backlogReader: SqliteBacklogReader | undefined;

  /** Use {@link openSqliteStore}. */
  private constructor(db: Database.Database, filePath: string, options: ResolvedOptions) {
    this.#db = db;
    this.filePath = filePath;
    this.#options = options;
    this.#sql = prepareStatements(db);
    this.#applyWrite = db.transaction((write: QueuedWrite<CommitContext>, context: CommitContext) => write.apply(context));
    // The usual commit: every write applied directly. A fenced write refused for its lease fails before
    // it changes anything, so it is settled alone; any other failure runs the batch again, isolated.
    const commitDirect = db.transaction((batch: ReadonlyArray<QueuedWrite<CommitContext>>, context: CommitContext) => {
      const settlements: Array<() => void> = [];
      for (const write of batch) {
        try {
          settlements.push(write.apply(context));
        } catch (cause) {
          if (isRetried(cause)) throw cause;
          if (!(cause instanceof StoreError && cause.code === ErrorCode.LeaseLost)) throw new NeedsIsolation('isolate', { cause });
          settlements.push(() => write.reject(cause));
        }
      }
      for (const chargerId of context.seen) this.#sql.touchCharger.run(chargerId, context.now);
      return settlements;
    });
    // Each write under its own savepoint (a savepoint per write costs about as much as the write).
    const commitBatch = db.transaction((batch: ReadonlyArray<QueuedWrite<CommitContext>>, context: CommitContext) => {
      const settlements: Array<() => void> = [];
      for (const write of batch) {
        // The savepoint undoes a failed write's rows; this undoes its counts.
        const countsBefore = copyCounts(context.counts);
        try {
          settlements.push(this.#applyWrite(write, context));
        } catch (cause) {
          context.counts = countsBefore;
          if (isRetried(cause)) throw cause;
          const error = cause instanceof StoreError ? cause : this.#writeFailed(cause);
          settlements.push(() => write.reject(error));
        }
      }
      for (const chargerId of context.seen) this.#sql.touchCharger.run(chargerId, context.now);
      return settlements;
    });
    this.#queue = new WriteQueue<CommitContext>({
      commitIntervalMs: options.commitIntervalMs,
      // IMMEDIATE: take the write lock first, so that a lock held elsewhere fails the commit at
      // once (SQLITE_BUSY), never half-way through a batch that already read.
      commit: (batch) => {
        let context = this.#newContext();
        let settlements: Array<() => void>;
        try {
          settlements = commitDirect.immediate(batch, context);
        } catch (error) {
          if (!(error instanceof NeedsIsolation)) throw error;
          context = this.#newContext();
          settlements = commitBatch.immediate(batch, context);
        }
        // Committed: the counts it changed are now the truth (a failed commit throws before this).
        this.#keepCounts(context);
        return settlements;
      },
      isBusy,
      describeFailure: (writes, next, cause) =>
        new StoreError(
          ErrorCode.StoreWriteFailed,
          `cannot commit ${writes} writes to store ${filePath} (${next}): ${isBusy(cause) ? 'the file is locked by another connection' : describeCause(cause)}`,
          { cause },
        ),
      onWriteError: options.onWriteError,
      onCommit: options.onCommit,
      closed: () => storeClosed(),
    });
  }

  /** See {@link openSqliteStore}. */
  static open(options: SqliteStoreOptions): SqliteMirrorStore {
    const resolved = resolveOptions(options);
    const filePath = path.join(options.dataDir, resolved.fileName);
    let db: Database.Database | undefined;
    try {
      fs.mkdirSync(options.dataDir, { recursive: true });
      // `timeout` is better-sqlite3's spelling of PRAGMA busy_timeout; 0 once open (see below).
      db = new Database(filePath, { timeout: OPEN_BUSY_TIMEOUT_MS });
      configure(db);
      migrate(db, filePath, resolved.now());
      // From here on no call waits for a lock: SQLITE_BUSY comes back at once and is retried from a timer.
      db.pragma('busy_timeout = 0');
      if (options.maxPageCount !== undefined) setMaxPageCount(db, options.maxPageCount);
      return new SqliteMirrorStore(db, filePath, resolved);
    } catch (cause) {
      // Close what was opened so a refused file is not left locked by this process.
      if (db?.open === true) db.close();
      if (cause instanceof StoreError) throw cause;
      throw new StoreError(ErrorCode.StoreUnavailable, `cannot open store ${filePath}: ${describeCause(cause)}`, { cause });
    }
  }

  /** Writes queued and not yet committed. */
  get pendingWrites(): number {
    return this.#queue.pendingWrites;
  }

  /** Frame bytes queued and not yet committed (bounded by `maxPendingBytes`). */
  get pendingBytes(): number {
    return this.#queue.pendingBytes;
  }

  /** False after a failed commit until a commit succeeds again. */
  get healthy(): boolean {
    return this.#queue.healthy;
  }

  /** Transactions committed so far (for tests and metrics: writes per commit). */
  get commitCount(): number {
    return this.#queue.commitCount;
  }

  /** Test hook: changes `PRAGMA max_page_count` (SQLite never lowers it below the current size). */
  setMaxPageCount(pages: number): void {
    this.#assertOpen();
    setMaxPageCount(this.#db, pages);
  }

  // ── outbox ──────────────────────────────────────────────────────────────

  append(stream: StreamKey, record: NewOutboxRecord, limits: OutboxLimits): Promise<AppendResult> {
    return this.#enqueue(() => {
      checkRecord(record);
      checkLimits(limits);
      const bytes = Buffer.byteLength(record.frame);
      // An entry alone over the limit is not stored; it still goes through the queue so that
      // appends settle in the order they were made.
      if (bytes > limits.maxBytes) {
        return { bytes: 0, apply: (context) => this.#refuseOversized(stream, record, bytes, context) };
      }
      const pendingBytes = this.#queue.pendingBytes;
      if (pendingBytes + bytes > this.#options.maxPendingBytes) {
        throw new StoreError(
          ErrorCode.StoreOverloaded,
          `store ${this.filePath} has ${pendingBytes} bytes waiting for a commit (maxPendingBytes ${this.#options.maxPendingBytes}): append of ${bytes} bytes refused`,
        );
      }
      return { bytes, apply: (context) => this.#applyAppend(stream, record, bytes, limits, context) };
    });
  }

  read(stream: StreamKey, afterSeq: number, limit: number, maxBytes: number): Promise<OutboxRecord[]> {
    return this.#read('outbox', () => {
      checkReadWindow(afterSeq, limit, maxBytes);
      const records: OutboxRecord[] = [];
      let bytes = 0;
      for (const row of this.#sql.readOutbox.iterate(stream.chargerId, stream.secondaryKey, afterSeq, limit)) {
        const record = toOutboxRecord(row);
        // At least one entry, however large: delivery must go on.
        if (records.length > 0 && bytes + record.bytes > maxBytes) break;
        records.push(record);
        bytes += record.bytes;
      }
      return records;
    });
  }

  ack(stream: StreamKey, seq: number, fence: Fence): Promise<void> {
    return this.#enqueue(() => {
      checkInteger('seq', seq, 0);
      return {
        bytes: 0,
        apply: (context) => {
          this.#requireLease(stream.chargerId, fence, context);
          const row = this.#sql.deleteEntry.get(seq, stream.chargerId, stream.secondaryKey);
          if (row === undefined) return;
          const count = this.#countIn(context, stream.chargerId, stream.secondaryKey);
          count.messages -= 1;
          count.bytes -= integer(row, 'bytes');
        },
      };
    });
  }

  stats(stream: StreamKey): Promise<StreamStats> {
    return this.#read('outbox stats', () => {
      const counts = this.#sql.countStream.get(stream.chargerId, stream.secondaryKey);
      const oldest = this.#sql.selectOldestEnqueuedAt.get(stream.chargerId, stream.secondaryKey);
      return {
        messages: counts === undefined ? 0 : integer(counts, 'messages'),
        bytes: counts === undefined ? 0 : integer(counts, 'bytes'),
        oldestEnqueuedAt: oldest === undefined ? null : integer(oldest, 'enqueued_at'),
      };
    });
  }

  /** Read on a worker thread (see sqlite-backlog-reader.ts): it visits every entry, which must not stop the frame path. */
  backlog(): Promise<StreamBacklog[]> {
    if (this.#closing) return Promise.reject(storeClosed());
    this.#backlogReader ??= new SqliteBacklogReader(this.filePath);
    return this.#backlogReader.read();
  }

  // ── remote starts ───────────────────────────────────────────────────────

  savePendingRemoteStart(chargerId: string, secondaryKey: string, tag: RemoteStartTag, fence: Fence): Promise<void> {
    return this.#enqueue(() => {
      checkRemoteStartTag(tag);
      const json = encodeRemoteStart(tag);
      return {
        bytes: 0,
        apply: (context) => {
          this.#requireLease(chargerId, fence, context);
          this.#sql.upsertRemoteStart.run(chargerId, secondaryKey, json, context.now);
        },
      };
    });
  }

  /** Read and deleted in the commit, so it is handed out at most once, and after a save made before it. */
  takePendingRemoteStart(chargerId: string, secondaryKey: string, fence: Fence): Promise<RemoteStartTag | undefined> {
    return this.#enqueue(() => ({
      bytes: 0,
      apply: (context) => {
        this.#requireLease(chargerId, fence, context);
        const row = this.#sql.takeRemoteStart.get(chargerId, secondaryKey);
        return row === undefined ? undefined : decodeRemoteStart(text(row, 'tag'));
      },
    }));
  }

  // ── transaction book ────────────────────────────────────────────────────

  putTransactionLink(chargerId: string, secondaryKey: string, link: TransactionLink, fence: Fence): Promise<void> {
    return this.#enqueue(() => {
      if (link.stoppedAt !== null) checkInteger('stoppedAt', link.stoppedAt, 0);
      if (link.remoteStart !== null) checkRemoteStartTag(link.remoteStart);
      const remoteStart = link.remoteStart === null ? null : encodeRemoteStart(link.remoteStart);
      return {
        bytes: 0,
        apply: (context) => {
          this.#requireLease(chargerId, fence, context);
          this.#sql.upsertLink.run(
            chargerId,
            secondaryKey,
            link.startRef,
            link.primaryTxId,
            link.secondaryTxId,
            remoteStart,
            link.stoppedAt,
            context.now,
          );
        },
      };
    });
  }

  setPrimaryTransactionId(chargerId: string, startRef: string, primaryTxId: string, fence: Fence): Promise<void> {
    return this.#enqueue(() => ({
      bytes: 0,
      apply: (context) => {
        this.#requireLease(chargerId, fence, context);
        this.#sql.setPrimaryTxId.run(primaryTxId, context.now, chargerId, startRef);
      },
    }));
  }

  setSecondaryTransactionId(
    chargerId: string,
    secondaryKey: string,
    startRef: string,
    secondaryTxId: string,
    fence: Fence,
  ): Promise<void> {
    return this.#enqueue(() => ({
      bytes: 0,
      apply: (context) => {
        this.#requireLease(chargerId, fence, context);
        this.#sql.setSecondaryTxId.run(secondaryTxId, context.now, chargerId, secondaryKey, startRef);
      },
    }));
  }

  markTransactionStopped(chargerId: string, secondaryKey: string, startRef: string, stoppedAt: number, fence: Fence): Promise<void> {
    return this.#enqueue(() => {
      checkInteger('stoppedAt', stoppedAt, 0);
      return {
        bytes: 0,
        apply: (context) => {
          this.#requireLease(chargerId, fence, context);
          this.#sql.setStoppedAt.run(stoppedAt, context.now, chargerId, secondaryKey, startRef);
        },
      };
    });
  }

  findTransactionLinkByStartRef(chargerId: string, secondaryKey: string, startRef: string): Promise<TransactionLink | undefined> {
    return this.#read('transaction link', () => {
      const row = this.#sql.selectLinkByStartRef.get(chargerId, secondaryKey, startRef);
      return row === undefined ? undefined : toTransactionLink(row);
    });
  }

  findTransactionLinkByPrimaryId(chargerId: string, secondaryKey: string, primaryTxId: string): Promise<TransactionLink | undefined> {
    return this.#read('transaction link', () => {
      const row = this.#sql.selectLinkByPrimaryId.get(chargerId, secondaryKey, primaryTxId);
      return row === undefined ? undefined : toTransactionLink(row);
    });
  }

  // ── boot replay ─────────────────────────────────────────────────────────

  saveLastBoot(chargerId: string, frame: string): Promise<void> {
    return this.#enqueue(() => ({
      bytes: Buffer.byteLength(frame),
      apply: (context) => {
        this.#sql.upsertBoot.run(chargerId, frame, context.now);
        context.seen.add(chargerId);
      },
    }));
  }

  loadLastBoot(chargerId: string): Promise<string | undefined> {
    return this.#read('last BootNotification', () => {
      const row = this.#sql.selectBoot.get(chargerId);
      return row === undefined ? undefined : text(row, 'frame');
    });
  }

  // ── ownership ───────────────────────────────────────────────────────────
  // Lease operations go through the queue like every write (so they keep their order with the
  // fenced writes around them) but ask for a commit in the next turn.

  acquireLease(chargerId: string, owner: string, ttlMs: number, replacing?: string): Promise<LeaseGrant | undefined> {
    return this.#enqueue(() => {
      checkTtl(ttlMs);
      return {
        bytes: 0,
        urgent: true,
        apply: (context) => {
          const { now } = context;
          const lease = this.#leaseIn(context, chargerId);
          if (lease !== undefined && lease.owner !== null && lease.owner !== owner && lease.owner !== replacing && lease.expiresAt > now) return undefined;
          const grant: LeaseGrant = { chargerId, owner, token: (lease?.token ?? 0) + 1, expiresAt: now + ttlMs };
          this.#writeLease(context, chargerId, grant);
          // Whoever held it may have written its outboxes meanwhile: count them again when next needed.
          context.forgetCounts.add(chargerId);
          return grant;
        },
      };
    });
  }

  leaseHolder(chargerId: string): Promise<{ readonly owner: string; readonly expiresAt: number } | undefined> {
    return this.#read('lease', () => {
      const lease = this.#lease(chargerId);
      if (lease === undefined || lease.owner === null || lease.expiresAt <= this.#options.now()) return undefined;
      return { owner: lease.owner, expiresAt: lease.expiresAt };
    });
  }

  /** A lease that expired but that nobody took since is renewed: no other owner can have written under it. */
  renewLease(chargerId: string, fence: Fence, ttlMs: number): Promise<LeaseGrant | undefined> {
    return this.#enqueue(() => {
      checkTtl(ttlMs);
      return {
        bytes: 0,
        urgent: true,
        apply: (context) => {
          const lease = this.#leaseIn(context, chargerId);
          if (lease?.owner !== fence.owner || lease.token !== fence.token) return undefined;
          const grant: LeaseGrant = { chargerId, owner: fence.owner, token: fence.token, expiresAt: context.now + ttlMs };
          this.#writeLease(context, chargerId, grant);
          return grant;
        },
      };
    });
  }

  releaseLease(chargerId: string, fence: Fence): Promise<void> {
    return this.#enqueue(() => ({
      bytes: 0,
      urgent: true,
      apply: (context) => {
        const lease = this.#leaseIn(context, chargerId);
        if (lease?.owner !== fence.owner || lease.token !== fence.token) return;
        // The row stays, with its token: the next grant must be higher.
        this.#writeLease(context, chargerId, { owner: null, token: lease.token, expiresAt: 0 });
      },
    }));
  }

  // ── upkeep ──────────────────────────────────────────────────────────────

  /**
   * A charger whose lease is held and unexpired keeps everything but its links whose stop was
   * answered longer ago than the grace period: a charger connected for months would otherwise
   * keep every transaction it ever finished. One transaction, committed in the next turn.
   */
  prune(policy: PrunePolicy): Promise<PruneReport> {
    return this.#enqueue(() => {
      checkInteger('now', policy.now, 0);
      checkInteger('retentionMs', policy.retentionMs, 0);
      checkInteger('stoppedLinkGraceMs', policy.stoppedLinkGraceMs, 0);
      const configured = JSON.stringify(policy.configuredSecondaries);
      return {
        bytes: 0,
        urgent: true,
        apply: (context) => {
          context.forgetAllCounts = true;
          return this.#applyPrune(policy, configured);
        },
      };
    });
  }

  /** Commits now; rejects with StoreWriteFailed when the commit fails (the writes stay queued and are retried). */
  flush(): Promise<void> {
    if (this.#closing) return Promise.reject(storeClosed());
    return this.#queue.flush();
  }

  /**
   * Commits what it can (a lock is retried for a few seconds, see WriteQueue.drain; any other failure
   * is reported through `onWriteError` and the writes still queued then reject), stops the timers
   * and closes the file. Idempotent; every other method rejects with StoreUnavailable afterwards.
   */
  close(): Promise<void> {
    if (this.#closePromise === undefined) {
      this.#closing = true;
      const reader = this.#backlogReader?.close();
      this.#closePromise = Promise.all([this.#shutDown(), reader]).then(() => undefined);
    }
    return this.#closePromise;
  }

  // ── internals ───────────────────────────────────────────────────────────

  #assertOpen(): void {
    if (this.#closing) throw storeClosed();
  }

  /** Queues the write `prepare` describes; a check that throws in `prepare` rejects the promise, queueing nothing. */
  #enqueue<T>(prepare: () => WriteRequest<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#assertOpen();
      const request = prepare();
      const apply = (context: CommitContext): (() => void) => {
        const value = request.apply(context);
        return () => resolve(value);
      };
      this.#queue.push({ bytes: request.bytes, apply, reject }, request.urgent === true);
    });
  }

  #writeFailed(cause: unknown): StoreError {
    return new StoreError(ErrorCode.StoreWriteFailed, `cannot write to store ${this.filePath}: ${describeCause(cause)}`, { cause });
  }

  /** Runs a read now; a lock (rare for a WAL reader: a recovery, a checkpoint) is retried from a timer. */
  async #read<T>(what: string, read: () => T): Promise<T> {
    for (let failures = 0; ; failures += 1) {
      this.#assertOpen();
      try {
        return read();
      } catch (cause) {
        if (cause instanceof RangeError) throw cause;
        if (!isBusy(cause)) {
          throw new StoreError(ErrorCode.StoreUnavailable, `cannot read ${what} from store ${this.filePath}: ${describeCause(cause)}`, {
            cause,
          });
        }
      }
      await sleep(backoffDelay(failures, BUSY_RETRY_INITIAL_MS, BUSY_RETRY_MAX_MS), undefined, {
        signal: this.#abortOnClose.signal,
        ref: false,
      }).catch((cause: unknown) => {
        throw storeClosed(cause);
      });
    }
  }

  async #shutDown(): Promise<void> {
    await this.#queue.drain(
      (cause) => new StoreError(ErrorCode.StoreWriteFailed, `store ${this.filePath} closed before this write could be committed`, { cause }),
    );
    this.#abortOnClose.abort();
    this.#db.close();
  }

  #lease(chargerId: string): LeaseRow | undefined {
    const row = this.#sql.selectLease.get(chargerId);
    if (row === undefined) return undefined;
    return { owner: nullableText(row, 'owner'), token: integer(row, 'token'), expiresAt: integer(row, 'expires_at') };
  }

  #newContext(): CommitContext {
    return { now: this.#options.now(), seen: new Set(), leases: new Map(), counts: new Map(), forgetCounts: new Set(), forgetAllCounts: false };
  }

  /**
   * An outbox's size for the limit checks. Kept in memory (keeping it in a table cost two more writes
   * per message), read from the outbox once per stream and process, and counted again before anything
   * is dropped: a count that another process's writes made stale can only make a drop wait, never
   * drop what should have been kept.
   */
  #countIn(context: CommitContext, chargerId: string, secondaryKey: string): StreamCount {
    const key = streamKey(chargerId, secondaryKey);
    let count = context.counts.get(key);
    if (count === undefined) {
      const cached = this.#counts.get(key);
      count = cached === undefined ? this.#exactCount(chargerId, secondaryKey) : { ...cached };
      context.counts.set(key, count);
    }
    return count;
  }

  #recount(count: StreamCount, chargerId: string, secondaryKey: string): void {
    const exact = this.#exactCount(chargerId, secondaryKey);
    count.messages = exact.messages;
    count.bytes = exact.bytes;
  }

  #exactCount(chargerId: string, secondaryKey: string): StreamCount {
    const row = this.#sql.countStream.get(chargerId, secondaryKey);
    return { chargerId, messages: row === undefined ? 0 : integer(row, 'messages'), bytes: row === undefined ? 0 : integer(row, 'bytes') };
  }

  #keepCounts(context: CommitContext): void {
    if (context.forgetAllCounts) {
      this.#counts.clear();
      return;
    }
    for (const [key, count] of context.counts) this.#counts.set(key, count);
    if (context.forgetCounts.size === 0) return;
    for (const [key, count] of this.#counts) if (context.forgetCounts.has(count.chargerId)) this.#counts.delete(key);
  }

  /** The charger's lease as this commit sees it (read once, then kept up to date by the commit's lease writes). */
  #leaseIn(context: CommitContext, chargerId: string): LeaseRow | undefined {
    if (context.leases.has(chargerId)) return context.leases.get(chargerId);
    const lease = this.#lease(chargerId);
    context.leases.set(chargerId, lease);
    return lease;
  }

  #writeLease(context: CommitContext, chargerId: string, lease: LeaseRow): void {
    this.#sql.upsertLease.run(chargerId, lease.owner, lease.token, lease.expiresAt);
    context.leases.set(chargerId, lease);
  }

  /** Inside a commit: throws LeaseLost (failing only this write) unless `fence` is the charger's current, unexpired lease. */
  #requireLease(chargerId: string, fence: Fence, context: CommitContext): void {
    const now = context.now;
    const lease = this.#leaseIn(context, chargerId);
    if (lease?.owner === fence.owner && lease.token === fence.token && lease.expiresAt > now) return;
    throw new StoreError(
      ErrorCode.LeaseLost,
      `the lease of charger ${chargerId} is no longer held by ${fence.owner} with token ${fence.token}`,
    );
  }

  #applyAppend(stream: StreamKey, record: NewOutboxRecord, bytes: number, limits: OutboxLimits, context: CommitContext): AppendResult {
    const { chargerId, secondaryKey } = stream;
    context.seen.add(chargerId);
    const inserted = this.#sql.insertEntry.run(
      chargerId,
      secondaryKey,
      record.messageId,
      record.kind,
      record.action,
      record.priority,
      record.startRef,
      record.txRef,
      record.enqueuedAt,
      bytes,
      record.frame,
    );
    const seq = Number(inserted.lastInsertRowid);
    const count = this.#countIn(context, chargerId, secondaryKey);
    count.messages += 1;
    count.bytes += bytes;
    const dropped: DroppedRecord[] = [];
    // Nothing is dropped on a count that may be stale (another process appended or pruned): count again first.
    if (count.messages > limits.maxMessages || count.bytes > limits.maxBytes) this.#recount(count, chargerId, secondaryKey);
    while (count.messages > limits.maxMessages || count.bytes > limits.maxBytes) {
      // `seq < ?`: never the entry just appended (every other entry of the stream is older).
      const row =
        this.#sql.selectOldestDroppable.get(chargerId, secondaryKey, seq) ?? this.#sql.selectOldest.get(chargerId, secondaryKey, seq);
      if (row === undefined) break;
      const victim = toDroppedRecord(row);
      this.#sql.deleteEntryBySeq.run(victim.seq);
      count.messages -= 1;
      count.bytes -= victim.bytes;
      dropped.push(victim);
    }
    return { seq, dropped };
  }

  #refuseOversized(stream: StreamKey, record: NewOutboxRecord, bytes: number, context: CommitContext): AppendResult {
    context.seen.add(stream.chargerId);
    return { seq: 0, dropped: [{ seq: 0, action: record.action, priority: record.priority, bytes }] };
  }

  #applyPrune(policy: PrunePolicy, configuredJson: string): PruneReport {
    const { now } = policy;
    const cutoff = now - policy.retentionMs;
    const sql = this.#sql;
    let staleOutboxEntries = 0;
    let orphanOutboxEntries = 0;
    let transactionLinks = 0;
    let remoteStarts = 0;
    let lastBoots = 0;
    for (const row of sql.selectStaleChargers.all(cutoff, now)) {
      const chargerId = text(row, 'charger_id');
      staleOutboxEntries += sql.deleteChargerOutbox.run(chargerId).changes;
      transactionLinks += sql.deleteChargerLinks.run(chargerId).changes;
      remoteStarts += sql.deleteChargerRemoteStarts.run(chargerId).changes;
      lastBoots += sql.deleteChargerBoot.run(chargerId).changes;
      sql.deleteCharger.run(chargerId);
    }
    for (const row of sql.selectOrphanStreams.all(configuredJson, now)) {
      const chargerId = text(row, 'charger_id');
      const secondaryKey = text(row, 'secondary_key');
      orphanOutboxEntries += sql.deleteStreamOutbox.run(chargerId, secondaryKey).changes;
    }
    transactionLinks += sql.deleteOldLinks.run(now - policy.stoppedLinkGraceMs, cutoff, now).changes;
    remoteStarts += sql.deleteOldRemoteStarts.run(cutoff, now).changes;
    return { staleOutboxEntries, orphanOutboxEntries, transactionLinks, remoteStarts, lastBoots };
  }
}

/**
 * A stable store key for one configured secondary: `name:<name>` when it has a name,
 * else `url:` + the first 16 hex chars of SHA-256 of its URL without userinfo
 * (WHATWG-normalised, query kept). Never contains credentials; rotating a
 * `user:password@` keeps the key, changing the URL's query (e.g. a token) does not —
 * give such a secondary a `name`.
 */
export function secondaryStoreKey(secondary: { readonly url: string; readonly name?: string | undefined }): string {
  if (secondary.name !== undefined && secondary.name !== '') return `name:${secondary.name}`;
  if (!URL.canParse(secondary.url)) {
    throw new ConfigError(ErrorCode.ConfigInvalid, `secondary url is not a valid URL: ${redactUrl(secondary.url)}`);
  }
  const url = new URL(secondary.url);
  url.username = '';
  url.password = '';
  const hash = createHash('sha256').update(url.href).digest('hex');
  return `url:${hash.slice(0, URL_KEY_HASH_HEX_CHARS)}`;
}

function configure(db: Database.Database): void {
  const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
  // SQLite answers with the old mode when it cannot switch (e.g. some network
  // filesystems); the durability and concurrency described above need WAL.
  if (mode !== 'wal') throw new Error(`journal_mode WAL refused (journal_mode is ${String(mode)})`);
  // NORMAL in WAL mode: commits do not fsync, the WAL is synced at checkpoints.
  // Enough for a killed process (the OS holds the written pages); power loss may
  // drop the last commits. FULL would fsync on every group commit.
  db.pragma('synchronous = NORMAL');
}

function setMaxPageCount(db: Database.Database, pages: number): void {
  // Interpolated into the PRAGMA (pragmas take no bound parameters): only a positive integer may pass.
  checkInteger('maxPageCount', pages, 1);
  db.pragma(`max_page_count = ${pages}`);
}

/** SQLite's primary code (`SQLITE_IOERR` for `SQLITE_IOERR_WRITE`), or undefined for other errors. */
function sqliteCode(error: unknown): string | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  const [prefix, name] = error.code.split('_');
  return `${prefix}_${name}`;
}

function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** A failure of the file, not of one write: the whole commit is kept and retried. */
function streamKey(chargerId: string, secondaryKey: string): string {
  return `${chargerId}\u0000${secondaryKey}`;
}

function copyCounts(counts: ReadonlyMap<string, StreamCount>): Map<string, StreamCount> {
  return new Map([...counts].map(([key, count]) => [key, { ...count }]));
}

function isRetried(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && RETRIED_SQLITE_CODES.has(code);
}

function storeClosed(cause?: unknown): StoreError {
  return new StoreError(ErrorCode.StoreUnavailable, 'store is closed', cause === undefined ? undefined : { cause });
}

/** One line: the OS / SQLite code and message (they already name the file when it matters). */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code: unknown = Reflect.get(cause, 'code');
  const message = cause.message.replace(/\s+/g, ' ').trim();
  return typeof code === 'string' && !message.startsWith(code) ? `${code}: ${message}` : message;
}
