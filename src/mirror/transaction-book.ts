/**
 * One secondary's books on one charger's transactions: which of its own
 * transactionIds (1.6) answers which of the primary's, and which remote start
 * (a secondary's RemoteStartTransaction / RequestStartTransaction, answered by the
 * proxy) a transaction took. Kept in the store; cached here for the session.
 *
 * Every write goes through one serial chain, so a link is written whole and in
 * order (bind, then the primary's id, then the secondary's, then the stop) and a
 * lookup made for a send sees every write queued before it.
 *
 * A link lives until this secondary has answered the transaction's stop, plus a
 * grace period in which a resent stop still finds it (chargers resend stops
 * routinely); the store's pruning removes it afterwards.
 */
import type { Logger } from '../logging/logger.js';
import type { OcppVersion } from '../ocpp/error-codes.js';
import { parsePendingIdToken, type RewriteContext } from '../routing/rewrite.js';
import type { Fence, MirrorStore, OutboxRecord, RemoteStartTag, TransactionLink } from '../store/store.js';

/** Transactions a book keeps in memory; older ones are read from the store again when needed. */
const MAX_CACHED_LINKS = 256;

export interface TransactionBookOptions {
  readonly chargerId: string;
  readonly secondaryKey: string;
  readonly version: OcppVersion;
  readonly store: MirrorStore;
  /** Resolves once this process owns the charger (its lease). */
  readonly fence: () => Promise<Fence>;
  /** charger_map's id_tag for this (charger, secondary), if any. */
  readonly idTagOverride: string | undefined;
  readonly log: Logger;
  readonly now?: () => number;
}

export class TransactionBook {
  readonly #o: TransactionBookOptions;
  readonly #byStartRef = new Map<string, TransactionLink>();
  readonly #startRefByPrimaryId = new Map<string, string>();
  #chain: Promise<void> = Promise.resolve();

  constructor(options: TransactionBookOptions) {
    this.#o = options;
  }

  /** A remote start answered locally: the next transaction start of this charger takes it. */
  saveRemoteStart(tag: RemoteStartTag): Promise<void> {
    return this.#serial('keeping a remote start', async (fence) => {
      await this.#o.store.savePendingRemoteStart(this.#o.chargerId, this.#o.secondaryKey, tag, fence);
    });
  }

  /**
   * A transaction start was mirrored: take a pending remote start and create (or, for a
   * resent start, keep) the link. 1.6 always needs one (the secondary's own transactionId);
   * 2.x only to carry a remote start's idToken.
   */
  bindStart(startRef: string): Promise<void> {
    return this.#serial('binding a transaction start', async (fence) => {
      const { store, chargerId, secondaryKey, version } = this.#o;
      const pending = await store.takePendingRemoteStart(chargerId, secondaryKey, fence);
      const known = await this.#find(startRef);
      if (version !== '1.6' && pending === undefined && known === undefined) return;
      const link: TransactionLink = {
        startRef,
        primaryTxId: known?.primaryTxId ?? (version === '1.6' ? null : startRef),
        secondaryTxId: known?.secondaryTxId ?? null,
        remoteStart: pending ?? known?.remoteStart ?? null,
        stoppedAt: null,
      };
      await this.#put(link, fence);
    });
  }

  /** 1.6: the primary answered the start with its transactionId. */
  primaryAnswered(startRef: string, primaryTxId: string): Promise<void> {
    return this.#update('recording the primary transactionId', startRef, (link) => ({ ...link, primaryTxId }));
  }

  /** 1.6: this secondary answered the start with its own transactionId. */
  secondaryAnswered(startRef: string, secondaryTxId: string): Promise<void> {
    return this.#update('recording the secondary transactionId', startRef, (link) => ({ ...link, secondaryTxId }));
  }

  /** This secondary answered the transaction's stop (the primary's id, or the charger's on 2.x). */
  stopped(txRef: string): Promise<void> {
    return this.#serial('recording a transaction stop', async (fence) => {
      const link = await this.#findByPrimaryId(txRef);
      if (link === undefined || link.stoppedAt !== null) return;
      await this.#put({ ...link, stoppedAt: (this.#o.now ?? Date.now)() }, fence);
    });
  }

  /** What this secondary needs changed in `record`, or undefined when the original bytes go as they are. */
  async rewriteContext(record: OutboxRecord): Promise<RewriteContext | undefined> {
    const ref = record.startRef ?? record.txRef;
    // Only 1.6 updates (MeterValues) need the link, for the secondary's transactionId.
    const needsLink = ref !== null && (record.priority === 'transaction' || this.#o.version === '1.6');
    const { idTagOverride } = this.#o;
    if (!needsLink) return idTagOverride === undefined ? undefined : { idTagOverride };
    // Writes queued before this send (the start's binding) are in the books first.
    await this.#chain;
    const link = record.startRef !== null ? await this.#find(record.startRef) : await this.#findByPrimaryId(ref);
    if (record.startRef === null && this.#o.version === '1.6' && link?.secondaryTxId == null) {
      this.#o.log.warn({ action: record.action, transaction: record.txRef }, 'no transactionId of this secondary is known for this transaction: sent as the primary knows it');
    }
    const remoteStartIdTag = link?.remoteStart == null ? undefined : encodeRemoteStart(link.remoteStart);
    return { idTagOverride, remoteStartIdTag, secondaryTxId: link?.secondaryTxId ?? undefined };
  }

  /** Settles when every write asked for so far is done. */
  settled(): Promise<void> {
    return this.#chain;
  }

  #update(what: string, startRef: string, change: (link: TransactionLink) => TransactionLink): Promise<void> {
    return this.#serial(what, async (fence) => {
      const link = await this.#find(startRef);
      if (link !== undefined) await this.#put(change(link), fence);
    });
  }

  #serial(what: string, work: (fence: Fence) => Promise<void>): Promise<void> {
    const next = this.#chain.then(async () => work(await this.#o.fence()));
    // One failed write (a lost lease, a store that is failing) is logged, and does not stop the writes after it.
    this.#chain = next.catch((error: unknown) => {
      this.#o.log.error({ err: error, during: what }, 'transaction book not updated');
    });
    return this.#chain;
  }

  async #put(link: TransactionLink, fence: Fence): Promise<void> {
    await this.#o.store.putTransactionLink(this.#o.chargerId, this.#o.secondaryKey, link, fence);
    this.#remember(link);
  }

  async #find(startRef: string): Promise<TransactionLink | undefined> {
    const cached = this.#byStartRef.get(startRef);
    if (cached !== undefined) return cached;
    const stored = await this.#o.store.findTransactionLinkByStartRef(this.#o.chargerId, this.#o.secondaryKey, startRef);
    if (stored !== undefined) this.#remember(stored);
    return stored;
  }

  async #findByPrimaryId(primaryTxId: string): Promise<TransactionLink | undefined> {
    const startRef = this.#startRefByPrimaryId.get(primaryTxId);
    if (startRef !== undefined) return this.#find(startRef);
    const stored = await this.#o.store.findTransactionLinkByPrimaryId(this.#o.chargerId, this.#o.secondaryKey, primaryTxId);
    if (stored !== undefined) this.#remember(stored);
    return stored;
  }

  #remember(link: TransactionLink): void {
    this.#byStartRef.delete(link.startRef);
    this.#byStartRef.set(link.startRef, link);
    if (link.primaryTxId !== null) this.#startRefByPrimaryId.set(link.primaryTxId, link.startRef);
    if (this.#byStartRef.size > MAX_CACHED_LINKS) {
      const oldest = this.#byStartRef.keys().next().value;
      if (oldest !== undefined) {
        const evicted = this.#byStartRef.get(oldest);
        this.#byStartRef.delete(oldest);
        if (evicted?.primaryTxId != null) this.#startRefByPrimaryId.delete(evicted.primaryTxId);
      }
    }
  }
}

/**
 * A remote start as `decideSecondaryCall` hands it over (1.6: the idTag; 2.x: JSON of idToken and
 * remoteStartId), typed for the store; undefined when it cannot be read.
 */
export function decodeRemoteStart(version: OcppVersion, pendingIdTag: string): RemoteStartTag | undefined {
  if (version === '1.6') return { version: '1.6', idTag: pendingIdTag };
  const token = parsePendingIdToken(version, pendingIdTag);
  return token === undefined ? undefined : { version: '2.x', idToken: token.idToken, remoteStartId: token.remoteStartId };
}

/** The form rewrite.ts reads (`RewriteContext.remoteStartIdTag`). */
export function encodeRemoteStart(tag: RemoteStartTag): string {
  return tag.version === '1.6' ? tag.idTag : JSON.stringify({ idToken: tag.idToken, remoteStartId: tag.remoteStartId });
}
