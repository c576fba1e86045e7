/**
 * Every SQL statement of the SQLite store, prepared once per connection. The schema they run
 * against is in sqlite-schema.ts.
 */
import type Database from 'better-sqlite3';

type SqlValue = string | number | null;
/** An interface, not an alias: declaration files can then name it. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Statement extends Database.Statement<SqlValue[], unknown> {}

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  const sql = (text: string): Statement => db.prepare<SqlValue[], unknown>(text);
  /** Chargers whose lease is held and unexpired at `?` (the policy's now): prune leaves them alone. */
  const held = 'SELECT charger_id FROM leases WHERE owner IS NOT NULL AND expires_at > ?';
  return {
    insertEntry: sql(`
      INSERT INTO outbox
        (charger_id, secondary_key, message_id, kind, action, priority, start_ref, tx_ref, enqueued_at, bytes, frame)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    // An index range scan of one stream: run when a stream is first touched by this process, and before
    // anything is dropped from it (see the counts in sqlite-store.ts).
    countStream: sql(`
      SELECT count(*) AS messages, coalesce(sum(bytes), 0) AS bytes
      FROM outbox WHERE charger_id = ? AND secondary_key = ?`),
    // The literal `priority = 'droppable'` lets SQLite use the partial index.
    selectOldestDroppable: sql(`
      SELECT seq, action, priority, bytes FROM outbox
      WHERE charger_id = ? AND secondary_key = ? AND priority = 'droppable' AND seq < ?
      ORDER BY seq LIMIT 1`),
    selectOldest: sql(`
      SELECT seq, action, priority, bytes FROM outbox
      WHERE charger_id = ? AND secondary_key = ? AND seq < ?
      ORDER BY seq LIMIT 1`),
    deleteEntryBySeq: sql('DELETE FROM outbox WHERE seq = ?'),
    deleteEntry: sql('DELETE FROM outbox WHERE seq = ? AND charger_id = ? AND secondary_key = ? RETURNING bytes'),
    readOutbox: sql(`
      SELECT seq, charger_id, secondary_key, message_id, kind, action, priority, start_ref, tx_ref, enqueued_at, bytes, frame
      FROM outbox WHERE charger_id = ? AND secondary_key = ? AND seq > ?
      ORDER BY seq LIMIT ?`),
    selectOldestEnqueuedAt: sql(
      'SELECT enqueued_at FROM outbox WHERE charger_id = ? AND secondary_key = ? ORDER BY seq LIMIT 1',
    ),
    touchCharger: sql(`
      INSERT INTO chargers (charger_id, last_seen) VALUES (?, ?)
      ON CONFLICT (charger_id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`),

    upsertRemoteStart: sql(`
      INSERT INTO remote_starts (charger_id, secondary_key, tag, saved_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (charger_id, secondary_key) DO UPDATE SET tag = excluded.tag, saved_at = excluded.saved_at`),
    takeRemoteStart: sql('DELETE FROM remote_starts WHERE charger_id = ? AND secondary_key = ? RETURNING tag'),

    // A resent start carries nulls where the first one's answers have since filled in ids:
    // a null never erases what is known, and a put never un-stops a link.
    upsertLink: sql(`
      INSERT INTO transaction_links
        (charger_id, secondary_key, start_ref, primary_tx_id, secondary_tx_id, remote_start, stopped_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (charger_id, secondary_key, start_ref) DO UPDATE SET
        primary_tx_id = coalesce(excluded.primary_tx_id, primary_tx_id),
        secondary_tx_id = coalesce(excluded.secondary_tx_id, secondary_tx_id),
        remote_start = coalesce(excluded.remote_start, remote_start),
        stopped_at = coalesce(excluded.stopped_at, stopped_at),
        updated_at = excluded.updated_at`),
    // By (charger, startRef) across secondaries: the primary key's leading column
    // narrows to one charger's few open links, so no extra index is needed.
    setPrimaryTxId: sql('UPDATE transaction_links SET primary_tx_id = ?, updated_at = ? WHERE charger_id = ? AND start_ref = ?'),
    setSecondaryTxId: sql(
      'UPDATE transaction_links SET secondary_tx_id = ?, updated_at = ? WHERE charger_id = ? AND secondary_key = ? AND start_ref = ?',
    ),
    setStoppedAt: sql(
      'UPDATE transaction_links SET stopped_at = ?, updated_at = ? WHERE charger_id = ? AND secondary_key = ? AND start_ref = ?',
    ),
    selectLinkByStartRef: sql(`
      SELECT start_ref, primary_tx_id, secondary_tx_id, remote_start, stopped_at FROM transaction_links
      WHERE charger_id = ? AND secondary_key = ? AND start_ref = ?`),
    selectLinkByPrimaryId: sql(`
      SELECT start_ref, primary_tx_id, secondary_tx_id, remote_start, stopped_at FROM transaction_links
      WHERE charger_id = ? AND secondary_key = ? AND primary_tx_id = ?
      ORDER BY updated_at DESC LIMIT 1`),

    upsertBoot: sql(`
      INSERT INTO last_boot (charger_id, frame, saved_at) VALUES (?, ?, ?)
      ON CONFLICT (charger_id) DO UPDATE SET frame = excluded.frame, saved_at = excluded.saved_at`),
    selectBoot: sql('SELECT frame FROM last_boot WHERE charger_id = ?'),

    selectLease: sql('SELECT owner, token, expires_at FROM leases WHERE charger_id = ?'),
    upsertLease: sql(`
      INSERT INTO leases (charger_id, owner, token, expires_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (charger_id) DO UPDATE SET owner = excluded.owner, token = excluded.token, expires_at = excluded.expires_at`),

    selectStaleChargers: sql(`SELECT charger_id FROM chargers WHERE last_seen < ? AND charger_id NOT IN (${held})`),
    deleteChargerOutbox: sql('DELETE FROM outbox WHERE charger_id = ?'),
    deleteChargerLinks: sql('DELETE FROM transaction_links WHERE charger_id = ?'),
    deleteChargerRemoteStarts: sql('DELETE FROM remote_starts WHERE charger_id = ?'),
    deleteChargerBoot: sql('DELETE FROM last_boot WHERE charger_id = ?'),
    deleteCharger: sql('DELETE FROM chargers WHERE charger_id = ?'),
    selectOrphanStreams: sql(`
      SELECT DISTINCT charger_id, secondary_key FROM outbox
      WHERE secondary_key NOT IN (SELECT value FROM json_each(?)) AND charger_id NOT IN (${held})`),
    deleteStreamOutbox: sql('DELETE FROM outbox WHERE charger_id = ? AND secondary_key = ?'),
    deleteOldLinks: sql(`
      DELETE FROM transaction_links
      WHERE (stopped_at IS NOT NULL AND stopped_at < ?) OR (updated_at < ? AND charger_id NOT IN (${held}))`),
    deleteOldRemoteStarts: sql(`DELETE FROM remote_starts WHERE saved_at < ? AND charger_id NOT IN (${held})`),
  };
}
