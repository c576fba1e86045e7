/**
 * The SQLite store's schema and its migrations. `PRAGMA user_version` holds the last migration
 * applied; append new versions, never edit a released one.
 */
import type Database from 'better-sqlite3';
import { ErrorCode, StoreError } from '../errors.js';
import { parseFrame } from '../ocpp/frame.js';
import { scanFrameHead } from '../ocpp/scan.js';
import { encodeRemoteStart, remoteStartFromV1IdTag } from './sqlite-rows.js';

interface Migration {
  readonly version: number;
  /** Runs inside the migration transaction; `now` is the store's clock (epoch ms). */
  readonly up: (db: Database.Database, now: number) => void;
}

/** Version 1 (ocpp-splitter ≤ 0.1): caller-chosen seqs, idTags as text. Kept verbatim: files of that age still exist. */
const SCHEMA_V1 = `
  CREATE TABLE outbox (
    charger_id    TEXT    NOT NULL,
    secondary_key TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    frame         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    priority      TEXT    NOT NULL,
    start_ref     TEXT,
    tx_ref        TEXT,
    enqueued_at   INTEGER NOT NULL,
    PRIMARY KEY (charger_id, secondary_key, seq)
  );

  CREATE TABLE pending_id_tags (
    charger_id    TEXT    NOT NULL,
    secondary_key TEXT    NOT NULL,
    id_tag        TEXT    NOT NULL,
    saved_at      INTEGER NOT NULL,
    PRIMARY KEY (charger_id, secondary_key)
  ) WITHOUT ROWID;

  CREATE TABLE transaction_links (
    charger_id      TEXT    NOT NULL,
    secondary_key   TEXT    NOT NULL,
    start_ref       TEXT    NOT NULL,
    primary_tx_id   TEXT,
    secondary_tx_id TEXT,
    id_tag          TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (charger_id, secondary_key, start_ref)
  ) WITHOUT ROWID;

  CREATE INDEX transaction_links_by_primary_tx
    ON transaction_links (charger_id, secondary_key, primary_tx_id);

  CREATE TABLE last_boot (
    charger_id TEXT    NOT NULL PRIMARY KEY,
    frame      TEXT    NOT NULL,
    saved_at   INTEGER NOT NULL
  );
`;

/**
 * Version 2: store-assigned seqs, per-stream counters, typed remote starts, leases.
 *
 * outbox: `seq` is the rowid, AUTOINCREMENT so that a seq is never handed out twice, even after
 * every entry is acked or pruned (sqlite_sequence keeps the high-water mark). One global counter
 * is strictly increasing within each stream, which is all the contract asks. The table stays an
 * ordinary rowid table (rows of 0.3–2 KB suit it better than WITHOUT ROWID, and appends land at
 * the end of the B-tree); `frame` is the last column so that the drop and stats queries, which
 * never read it, stop before its overflow pages. Both indexes end in the rowid, so "this stream,
 * seq > n, in order" and "this stream's oldest droppable" are index range scans.
 *
 * chargers: last activity (an append, a boot) per charger, for retention.
 *
 * leases: one row per charger ever leased; a released lease keeps its token (owner NULL) so that
 * the next grant's token is higher than every earlier one.
 */
const SCHEMA_V2 = `
  CREATE TABLE outbox_v2 (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id    TEXT    NOT NULL,
    secondary_key TEXT    NOT NULL,
    message_id    TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    priority      TEXT    NOT NULL,
    start_ref     TEXT,
    tx_ref        TEXT,
    enqueued_at   INTEGER NOT NULL,
    bytes         INTEGER NOT NULL,
    frame         TEXT    NOT NULL
  );

  -- Version 1 entries in their stream order; their seqs are renumbered (no process holds them
  -- across an upgrade: delivery positions lived in memory only).
  INSERT INTO outbox_v2
    (charger_id, secondary_key, message_id, kind, action, priority, start_ref, tx_ref, enqueued_at, bytes, frame)
  SELECT charger_id, secondary_key, splitter_v1_message_id(frame), 'call', action, priority, start_ref, tx_ref,
         enqueued_at, length(CAST(frame AS BLOB)), frame
  FROM outbox ORDER BY charger_id, secondary_key, seq;

  DROP TABLE outbox;
  ALTER TABLE outbox_v2 RENAME TO outbox;
  CREATE INDEX outbox_by_stream ON outbox (charger_id, secondary_key);
  CREATE INDEX outbox_droppable ON outbox (charger_id, secondary_key) WHERE priority = 'droppable';

  CREATE TABLE remote_starts (
    charger_id    TEXT    NOT NULL,
    secondary_key TEXT    NOT NULL,
    tag           TEXT    NOT NULL,
    saved_at      INTEGER NOT NULL,
    PRIMARY KEY (charger_id, secondary_key)
  ) WITHOUT ROWID;

  INSERT INTO remote_starts (charger_id, secondary_key, tag, saved_at)
  SELECT charger_id, secondary_key, splitter_v1_remote_start(id_tag), saved_at FROM pending_id_tags;
  DROP TABLE pending_id_tags;

  CREATE TABLE transaction_links_v2 (
    charger_id      TEXT    NOT NULL,
    secondary_key   TEXT    NOT NULL,
    start_ref       TEXT    NOT NULL,
    primary_tx_id   TEXT,
    secondary_tx_id TEXT,
    remote_start    TEXT,
    stopped_at      INTEGER,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (charger_id, secondary_key, start_ref)
  ) WITHOUT ROWID;

  INSERT INTO transaction_links_v2
    (charger_id, secondary_key, start_ref, primary_tx_id, secondary_tx_id, remote_start, stopped_at, updated_at)
  SELECT charger_id, secondary_key, start_ref, primary_tx_id, secondary_tx_id, splitter_v1_remote_start(id_tag), NULL, updated_at
  FROM transaction_links;
  DROP TABLE transaction_links;
  ALTER TABLE transaction_links_v2 RENAME TO transaction_links;
  CREATE INDEX transaction_links_by_primary_tx ON transaction_links (charger_id, secondary_key, primary_tx_id, updated_at);

  CREATE TABLE chargers (
    charger_id TEXT    NOT NULL PRIMARY KEY,
    last_seen  INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Every charger the file knows counts as seen at the upgrade: none is pruned for the time the
  -- old version could not record.
  INSERT INTO chargers (charger_id, last_seen)
  SELECT charger_id, splitter_migration_time() FROM (
    SELECT charger_id FROM outbox UNION SELECT charger_id FROM last_boot
    UNION SELECT charger_id FROM transaction_links UNION SELECT charger_id FROM remote_starts
  );

  CREATE TABLE leases (
    charger_id TEXT    NOT NULL PRIMARY KEY,
    owner      TEXT,
    token      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

const MIGRATIONS: readonly Migration[] = [
  { version: 1, up: (db) => db.exec(SCHEMA_V1) },
  {
    version: 2,
    up: (db, now) => {
      // Functions the version 2 SQL calls to convert version 1 values; registered on this connection only.
      db.function('splitter_v1_message_id', { deterministic: true }, (frame: unknown) =>
        typeof frame === 'string' ? v1MessageId(frame) : '',
      );
      db.function('splitter_v1_remote_start', { deterministic: true }, (idTag: unknown) =>
        typeof idTag === 'string' ? encodeRemoteStart(remoteStartFromV1IdTag(idTag)) : null,
      );
      db.function('splitter_migration_time', () => now);
      db.exec(SCHEMA_V2);
    },
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((latest, m) => Math.max(latest, m.version), 0);

/** Brings the file to {@link LATEST_SCHEMA_VERSION}; refuses a file from a newer version. */
export function migrate(db: Database.Database, filePath: string, now: number): void {
  // Without a lock first: an up-to-date file (the usual case) needs no write lock to open.
  if (schemaVersion(db) === LATEST_SCHEMA_VERSION) return;
  // IMMEDIATE takes the write lock before reading user_version again, so two processes
  // opening an old file at once cannot both run the same migration.
  db.transaction(() => {
    const current = schemaVersion(db);
    if (current > LATEST_SCHEMA_VERSION) {
      throw new StoreError(
        ErrorCode.StoreUnavailable,
        `cannot open store ${filePath}: schema version ${current} is newer than this version of ocpp-splitter supports (${LATEST_SCHEMA_VERSION}); use a newer release or another data directory`,
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      migration.up(db, now);
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
}

function schemaVersion(db: Database.Database): number {
  const version: unknown = db.pragma('user_version', { simple: true });
  if (typeof version !== 'number') throw new Error(`PRAGMA user_version returned ${String(version)}`);
  return version;
}

/** Version 1 stored only charger CALLs that had been parsed, so their id is readable; '' if one is not. */
function v1MessageId(frame: string): string {
  const head = scanFrameHead(frame);
  if (head !== undefined) return head.id;
  // The scanner declines unusual but valid spellings (`2.0` as the type): the full parser reads them.
  const parsed = parseFrame(frame);
  return parsed.ok ? parsed.frame.id : '';
}
