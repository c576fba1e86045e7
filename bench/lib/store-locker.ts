/**
 * Another process holding the proxy's SQLite store: opens the file in argv[2]
 * (which must exist) and, on request, takes the write lock with `BEGIN IMMEDIATE`,
 * holds it, and commits — as a backup tool, a second instance or an operator's
 * `sqlite3` shell would. The locked-store scenario measures what the proxy's
 * chargers feel meanwhile.
 */
import Database from 'better-sqlite3';

export type LockerRequest = { type: 'hold'; holdMs: number } | { type: 'close' };
export type LockerReport = { type: 'ready' } | { type: 'locked' } | { type: 'released' };

/** The proxy commits in short transactions; taking the lock waits at most this long for one to end. */
const ACQUIRE_TIMEOUT_MS = 10_000;

const send = (report: LockerReport): void => {
  process.send?.(report);
};

const file = process.argv[2];
if (file === undefined) throw new Error('store-locker: no database file given');
const db = new Database(file, { fileMustExist: true, timeout: ACQUIRE_TIMEOUT_MS });
send({ type: 'ready' });

process.on('message', (request: LockerRequest) => {
  if (request.type === 'hold') {
    db.exec('BEGIN IMMEDIATE');
    send({ type: 'locked' });
    setTimeout(() => {
      db.exec('COMMIT');
      send({ type: 'released' });
    }, request.holdMs);
  } else {
    db.close();
    process.exit(0);
  }
});
