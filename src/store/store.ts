/**
 * The durable state of the mirror, as a contract any engine can fill: the embedded
 * SQLite store (default), and PostgreSQL for several instances (scale-out issue).
 * The same contract tests (test/store/contract.ts) run against every implementation.
 *
 * Everything is asynchronous: no store call may block the event loop, and a
 * locked, slow or full store delays only the mirror, never the charger ↔ primary
 * path. An implementation may batch writes (group commit); a promise settles once
 * its write is committed (durable) or has definitely failed.
 *
 * Keys: `chargerId` is the charge point identity the charger presented;
 * `secondaryKey` is the stable key of one configured secondary (`secondaryStoreKey`).
 */

/** How important an outbox entry is when the outbox is full: droppable entries go first. */
export type OutboxPriority = 'transaction' | 'droppable';

/**
 * What an outbox entry is. A `call` waits for the secondary's answer (one in flight);
 * a `send` (OCPP 2.1 SEND, type 6) is never answered: it is done once written to the socket.
 */
export type OutboxKind = 'call' | 'send';

/** One (charger, secondary) outbox: an ordered stream of the charger's messages for that secondary. */
export interface StreamKey {
  readonly chargerId: string;
  readonly secondaryKey: string;
}

/** A charger message to append to an outbox. */
export interface NewOutboxRecord {
  /** The charger's frame exactly as received (UTF-8 text). Rewrites happen at send time. */
  readonly frame: string;
  /** The charger's message id, scanned once when the frame arrived. */
  readonly messageId: string;
  readonly action: string;
  readonly kind: OutboxKind;
  readonly priority: OutboxPriority;
  /** For a transaction start: the proxy's reference linking it to a {@link TransactionLink}. */
  readonly startRef: string | null;
  /** For messages about a running transaction: the transaction id as the primary knows it. */
  readonly txRef: string | null;
  /** Epoch milliseconds. */
  readonly enqueuedAt: number;
}

/** An outbox entry as stored. */
export interface OutboxRecord extends NewOutboxRecord {
  /** Assigned by the store at append: strictly increasing within a stream, never reused. */
  readonly seq: number;
  /** UTF-8 length of `frame`, what byte limits count. */
  readonly bytes: number;
}

/** Bounds of one outbox, enforced by the store in the same commit as the append. */
export interface OutboxLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
}

/** An entry removed from a full outbox to make room. */
export interface DroppedRecord {
  readonly seq: number;
  readonly action: string;
  readonly priority: OutboxPriority;
  readonly bytes: number;
}

export interface AppendResult {
  readonly seq: number;
  /**
   * Entries removed so that the outbox keeps within its limits, in the drop order:
   * the oldest droppable first, then (only when no droppable entry is left) the oldest.
   * The new entry itself is never dropped by its own append, unless it alone exceeds `maxBytes`,
   * in which case it is not stored (`seq` is then 0 and it is listed here).
   */
  readonly dropped: readonly DroppedRecord[];
}

export interface StreamStats {
  readonly messages: number;
  readonly bytes: number;
  /** `enqueuedAt` of the oldest entry; null when empty. */
  readonly oldestEnqueuedAt: number | null;
}

/** One outbox that is not empty, for the status API and metrics. */
export interface StreamBacklog extends StreamKey, StreamStats {}

/**
 * A secondary's remote start, answered locally by the proxy, waiting for the next transaction
 * start of that charger: 1.6 an idTag (CiString20), 2.x an IdTokenType object and its remoteStartId.
 */
export type RemoteStartTag =
  | { readonly version: '1.6'; readonly idTag: string }
  | { readonly version: '2.x'; readonly idToken: Readonly<Record<string, unknown>>; readonly remoteStartId: number };

/** One transaction as one secondary knows it. */
export interface TransactionLink {
  /** The proxy's reference, fixed when the start was mirrored (1.6), or the charger's transactionId (2.x). */
  readonly startRef: string;
  /** The id the primary assigned (1.6 StartTransaction.conf), or the charger's id (2.x); null until known. */
  readonly primaryTxId: string | null;
  /** The id this secondary assigned (1.6); null until its answer arrives, always null on 2.x. */
  readonly secondaryTxId: string | null;
  /** The remote start this transaction took, if a secondary remote-started it. */
  readonly remoteStart: RemoteStartTag | null;
  /** When this secondary answered the transaction's stop (epoch ms); the link is pruned after a grace period. */
  readonly stoppedAt: number | null;
}

/**
 * Who may deliver a charger's outboxes. Writes that only the owner may make (acks, the
 * transaction book, remote starts) carry the fence; the store refuses a stale one with
 * `StoreError(LeaseLost)`. Appends carry none: they record what the charger sent, which is
 * true whoever hears it; the store orders them.
 */
export interface Fence {
  readonly owner: string;
  /** Strictly increasing per charger across every grant. */
  readonly token: number;
}

export interface LeaseGrant extends Fence {
  readonly chargerId: string;
  /** Epoch ms; renew before then. */
  readonly expiresAt: number;
}

/** What one `prune()` removed. */
export interface PruneReport {
  /** Outbox entries of chargers not seen for the retention period. */
  readonly staleOutboxEntries: number;
  /** Outbox entries of secondaries no longer configured. */
  readonly orphanOutboxEntries: number;
  /** Transaction links stopped longer ago than the grace period, or not updated for the retention period. */
  readonly transactionLinks: number;
  /** Pending remote starts older than the retention period. */
  readonly remoteStarts: number;
  /** `last_boot` entries of chargers not seen for the retention period. */
  readonly lastBoots: number;
}

export interface PrunePolicy {
  /** Epoch ms. */
  readonly now: number;
  /** Chargers whose last activity (an append, a boot) is older than `now - retentionMs` are forgotten. */
  readonly retentionMs: number;
  /** Links whose stop was answered longer ago than this are removed. */
  readonly stoppedLinkGraceMs: number;
  /** Keys of the secondaries configured now: every other key's outboxes are removed. */
  readonly configuredSecondaries: readonly string[];
}

export interface MirrorStore {
  /** 'sqlite', 'memory', 'postgres': for logs and the status API. */
  readonly engine: string;

  // ── outbox ──────────────────────────────────────────────────────────────
  /** Appends, then drops entries (see {@link AppendResult}) until the stream is within `limits`. */
  append(stream: StreamKey, record: NewOutboxRecord, limits: OutboxLimits): Promise<AppendResult>;
  /** Up to `limit` entries with `seq > afterSeq`, oldest first, and at most `maxBytes` (but at least one). */
  read(stream: StreamKey, afterSeq: number, limit: number, maxBytes: number): Promise<OutboxRecord[]>;
  /** Removes a delivered (or given-up) entry; no effect when it is already gone. */
  ack(stream: StreamKey, seq: number, fence: Fence): Promise<void>;
  stats(stream: StreamKey): Promise<StreamStats>;
  /**
   * Every outbox that holds entries, with its stats (committed entries only). Reads the whole outbox:
   * for the status API and metrics, which call it at most every few seconds, never for the frame path.
   */
  backlog(): Promise<StreamBacklog[]>;

  // ── remote starts ───────────────────────────────────────────────────────
  /** Keeps a secondary's remote start until the next transaction start takes it (replaces an older one). */
  savePendingRemoteStart(chargerId: string, secondaryKey: string, tag: RemoteStartTag, fence: Fence): Promise<void>;
  /** Returns and forgets the pending remote start, if any: handed out at most once. */
  takePendingRemoteStart(chargerId: string, secondaryKey: string, fence: Fence): Promise<RemoteStartTag | undefined>;

  // ── transaction book ────────────────────────────────────────────────────
  /** Creates the link, or updates it keeping the known ids when the new value has none (a resent start). */
  putTransactionLink(chargerId: string, secondaryKey: string, link: TransactionLink, fence: Fence): Promise<void>;
  /** Records the primary's transaction id on every secondary's link with this startRef. */
  setPrimaryTransactionId(chargerId: string, startRef: string, primaryTxId: string, fence: Fence): Promise<void>;
  setSecondaryTransactionId(chargerId: string, secondaryKey: string, startRef: string, secondaryTxId: string, fence: Fence): Promise<void>;
  markTransactionStopped(chargerId: string, secondaryKey: string, startRef: string, stoppedAt: number, fence: Fence): Promise<void>;
  findTransactionLinkByStartRef(chargerId: string, secondaryKey: string, startRef: string): Promise<TransactionLink | undefined>;
  /** When a primary reuses a transaction id (after a CSMS reset), the most recently updated link wins. */
  findTransactionLinkByPrimaryId(chargerId: string, secondaryKey: string, primaryTxId: string): Promise<TransactionLink | undefined>;

  // ── boot replay ─────────────────────────────────────────────────────────
  /** The charger's most recent BootNotification CALL (raw text), replayed to secondaries that reconnect. */
  saveLastBoot(chargerId: string, frame: string): Promise<void>;
  loadLastBoot(chargerId: string): Promise<string | undefined>;

  // ── ownership ───────────────────────────────────────────────────────────
  /**
   * Takes the charger's lease for `owner` when it is free, expired, or already `owner`'s,
   * with a new token higher than every earlier one; undefined while another owner holds it —
   * unless that owner is `replacing`, which the caller knows to be gone (a process of its own
   * host that died): then the lease is taken at once rather than after it expires.
   */
  acquireLease(chargerId: string, owner: string, ttlMs: number, replacing?: string): Promise<LeaseGrant | undefined>;
  /** Who holds the charger's lease now (unexpired), if anyone. */
  leaseHolder(chargerId: string): Promise<{ readonly owner: string; readonly expiresAt: number } | undefined>;
  /** Extends a lease still held with this fence; undefined when it was lost (expired and taken). */
  renewLease(chargerId: string, fence: Fence, ttlMs: number): Promise<LeaseGrant | undefined>;
  /** Lets go of the lease if this fence still holds it; no effect otherwise. */
  releaseLease(chargerId: string, fence: Fence): Promise<void>;

  // ── upkeep ──────────────────────────────────────────────────────────────
  /** Removes what the policy says is stale; a charger whose lease is held and unexpired is never pruned. */
  prune(policy: PrunePolicy): Promise<PruneReport>;
  /** Commits every write accepted so far; rejects with StoreError when the commit fails (the writes are kept). */
  flush(): Promise<void>;
  /** Commits what it can and releases the store; idempotent. */
  close(): Promise<void>;
}
