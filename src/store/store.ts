/**
 * Durable state of the mirror, behind an interface so that a shared store
 * (Redis, PostgreSQL) for several proxy instances can replace the embedded one.
 *
 * Keys: `chargerId` is the charge point identity the charger presented;
 * `secondaryKey` is a stable key of one configured secondary (see mirror config).
 *
 * Writes may be batched (one transaction per event-loop turn); every read
 * first makes pending writes visible, so callers always read their own writes.
 */

/** How important an outbox entry is when the outbox is full. */
export type OutboxPriority = 'transaction' | 'droppable';

/** A charger CALL waiting to be delivered to one secondary. */
export interface OutboxRecord {
  /** Position in this (charger, secondary) outbox; strictly increasing. */
  readonly seq: number;
  /** The charger's CALL exactly as received (UTF-8 text). Rewrites happen at send time. */
  readonly frame: string;
  readonly action: string;
  readonly priority: OutboxPriority;
  /** For a transaction start: the proxy's reference linking it to a {@link TransactionLink}. */
  readonly startRef: string | null;
  /** For messages about a running transaction: the transaction id as the primary knows it. */
  readonly txRef: string | null;
  /** Epoch milliseconds. */
  readonly enqueuedAt: number;
}

/** One transaction as one secondary knows it. */
export interface TransactionLink {
  /** The proxy's reference, fixed when the start was mirrored (1.6), or the charger's transactionId (2.x). */
  readonly startRef: string;
  /** The id the primary assigned (1.6 StartTransaction.conf), or the charger's id (2.x); null until known. */
  readonly primaryTxId: string | null;
  /** The id this secondary assigned (1.6); null until its answer arrives, always null on 2.x. */
  readonly secondaryTxId: string | null;
  /** The idTag / idToken (JSON) this secondary's remote start supplied, to put in start and stop; null if none. */
  readonly idTag: string | null;
}

export interface MirrorStore {
  /** The outbox of one (charger, secondary), oldest first. */
  loadOutbox(chargerId: string, secondaryKey: string): OutboxRecord[];
  appendOutbox(chargerId: string, secondaryKey: string, record: OutboxRecord): void;
  deleteOutbox(chargerId: string, secondaryKey: string, seq: number): void;

  /** Keeps the idTag of a secondary's remote start until the next transaction start takes it (replaces an older one). */
  savePendingIdTag(chargerId: string, secondaryKey: string, idTag: string): void;
  /** Returns and forgets the pending idTag, if any. */
  takePendingIdTag(chargerId: string, secondaryKey: string): string | undefined;

  /** Creates or replaces the link identified by (chargerId, secondaryKey, link.startRef). */
  putTransactionLink(chargerId: string, secondaryKey: string, link: TransactionLink): void;
  /** Records the primary's transaction id on every secondary's link with this startRef. */
  setPrimaryTransactionId(chargerId: string, startRef: string, primaryTxId: string): void;
  setSecondaryTransactionId(chargerId: string, secondaryKey: string, startRef: string, secondaryTxId: string): void;
  findTransactionLinkByStartRef(chargerId: string, secondaryKey: string, startRef: string): TransactionLink | undefined;
  findTransactionLinkByPrimaryId(chargerId: string, secondaryKey: string, primaryTxId: string): TransactionLink | undefined;
  deleteTransactionLink(chargerId: string, secondaryKey: string, startRef: string): void;

  /** The charger's most recent BootNotification CALL (raw text), replayed to secondaries that reconnect. */
  saveLastBoot(chargerId: string, frame: string): void;
  loadLastBoot(chargerId: string): string | undefined;

  /** Writes everything pending now. Throws a StoreError if the write fails (pending writes are kept). */
  flush(): void;
  /** Flushes and releases the store; idempotent. */
  close(): void;
}
