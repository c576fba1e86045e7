/**
 * A {@link MirrorStore} in memory: the same contract as the SQLite store (the contract tests run
 * against both), nothing durable. For unit tests, and for the benchmark as the reference that
 * costs no I/O.
 *
 * Every call takes effect when it is made, in call order; its promise settles in a later
 * microtask, as a real store's would.
 */
import { ErrorCode, StoreError } from '../errors.js';
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
import {
  checkInteger,
  checkLimits,
  checkReadWindow,
  checkRecord,
  checkRemoteStartTag,
  checkTtl,
  copyRemoteStartTag,
} from './validate.js';

export interface MemoryStoreOptions {
  /** The clock for leases, activity and link times (epoch ms). */
  readonly now?: () => number;
}

interface MemoryStream {
  /** Ordered by seq. */
  readonly entries: OutboxRecord[];
  bytes: number;
}

interface MemoryLink {
  link: TransactionLink;
  updatedAt: number;
  /** Tie-break for "most recently updated" within one millisecond. */
  updateOrder: number;
}

interface MemoryLease {
  /** null once released; the token stays so that the next grant is higher. */
  owner: string | null;
  token: number;
  expiresAt: number;
}

/** Everything the store keeps about one charger, so that forgetting a charger is one delete. */
interface MemoryCharger {
  lastSeen: number | undefined;
  readonly streams: Map<string, MemoryStream>;
  /** By secondary key, then startRef. */
  readonly links: Map<string, Map<string, MemoryLink>>;
  readonly remoteStarts: Map<string, { tag: RemoteStartTag; savedAt: number }>;
  lastBoot: string | undefined;
}

export class MemoryMirrorStore implements MirrorStore {
  readonly engine = 'memory';
  readonly #now: () => number;
  readonly #chargers = new Map<string, MemoryCharger>();
  /** Kept apart from chargers: pruning a charger must not reset its token. */
  readonly #leases = new Map<string, MemoryLease>();
  /** One counter for every stream: strictly increasing within each, never reused. */
  #lastSeq = 0;
  #updates = 0;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  // ── outbox ──────────────────────────────────────────────────────────────

  append(stream: StreamKey, record: NewOutboxRecord, limits: OutboxLimits): Promise<AppendResult> {
    return this.#run(() => {
      checkRecord(record);
      checkLimits(limits);
      const charger = this.#charger(stream.chargerId);
      charger.lastSeen = this.#now();
      const bytes = Buffer.byteLength(record.frame);
      if (bytes > limits.maxBytes) {
        return { seq: 0, dropped: [{ seq: 0, action: record.action, priority: record.priority, bytes }] };
      }
      let entries = charger.streams.get(stream.secondaryKey);
      if (entries === undefined) {
        entries = { entries: [], bytes: 0 };
        charger.streams.set(stream.secondaryKey, entries);
      }
      this.#lastSeq += 1;
      const stored: OutboxRecord = {
        seq: this.#lastSeq,
        frame: record.frame,
        messageId: record.messageId,
        action: record.action,
        kind: record.kind,
        priority: record.priority,
        startRef: record.startRef,
        txRef: record.txRef,
        enqueuedAt: record.enqueuedAt,
        bytes,
      };
      entries.entries.push(stored);
      entries.bytes += bytes;
      const dropped: DroppedRecord[] = [];
      // The last entry is the one just appended: it is never a candidate.
      while (entries.entries.length > limits.maxMessages || entries.bytes > limits.maxBytes) {
        const candidates = entries.entries.length - 1;
        if (candidates === 0) break;
        let index = entries.entries.findIndex((entry, i) => i < candidates && entry.priority === 'droppable');
        if (index === -1) index = 0;
        const [victim] = entries.entries.splice(index, 1);
        if (victim === undefined) break;
        entries.bytes -= victim.bytes;
        dropped.push({ seq: victim.seq, action: victim.action, priority: victim.priority, bytes: victim.bytes });
      }
      return { seq: stored.seq, dropped };
    });
  }

  read(stream: StreamKey, afterSeq: number, limit: number, maxBytes: number): Promise<OutboxRecord[]> {
    return this.#run(() => {
      checkReadWindow(afterSeq, limit, maxBytes);
      const entries = this.#stream(stream)?.entries ?? [];
      const records: OutboxRecord[] = [];
      let bytes = 0;
      for (let i = firstAfter(entries, afterSeq); i < entries.length && records.length < limit; i += 1) {
        const entry = entries[i];
        if (entry === undefined) break;
        // At least one entry, however large: delivery must go on.
        if (records.length > 0 && bytes + entry.bytes > maxBytes) break;
        records.push(entry);
        bytes += entry.bytes;
      }
      return records;
    });
  }

  ack(stream: StreamKey, seq: number, fence: Fence): Promise<void> {
    return this.#run(() => {
      checkInteger('seq', seq, 0);
      this.#requireLease(stream.chargerId, fence);
      const entries = this.#stream(stream);
      if (entries === undefined) return;
      const index = firstAfter(entries.entries, seq - 1);
      const entry = entries.entries[index];
      if (entry?.seq !== seq) return;
      entries.entries.splice(index, 1);
      entries.bytes -= entry.bytes;
    });
  }

  stats(stream: StreamKey): Promise<StreamStats> {
    return this.#run(() => {
      const entries = this.#stream(stream);
      return {
        messages: entries?.entries.length ?? 0,
        bytes: entries?.bytes ?? 0,
        oldestEnqueuedAt: entries?.entries[0]?.enqueuedAt ?? null,
      };
    });
  }

  backlog(): Promise<StreamBacklog[]> {
    return this.#run(() => {
      const out: StreamBacklog[] = [];
      for (const [chargerId, charger] of this.#chargers) {
        for (const [secondaryKey, stream] of charger.streams) {
          const oldest = stream.entries[0];
          if (oldest === undefined) continue;
          out.push({ chargerId, secondaryKey, messages: stream.entries.length, bytes: stream.bytes, oldestEnqueuedAt: oldest.enqueuedAt });
        }
      }
      return out;
    });
  }

  // ── remote starts ───────────────────────────────────────────────────────

  savePendingRemoteStart(chargerId: string, secondaryKey: string, tag: RemoteStartTag, fence: Fence): Promise<void> {
    return this.#run(() => {
      checkRemoteStartTag(tag);
      this.#requireLease(chargerId, fence);
      this.#charger(chargerId).remoteStarts.set(secondaryKey, { tag: copyRemoteStartTag(tag), savedAt: this.#now() });
    });
  }

  takePendingRemoteStart(chargerId: string, secondaryKey: string, fence: Fence): Promise<RemoteStartTag | undefined> {
    return this.#run(() => {
      this.#requireLease(chargerId, fence);
      const remoteStarts = this.#chargers.get(chargerId)?.remoteStarts;
      const pending = remoteStarts?.get(secondaryKey);
      remoteStarts?.delete(secondaryKey);
      return pending?.tag;
    });
  }

  // ── transaction book ────────────────────────────────────────────────────

  putTransactionLink(chargerId: string, secondaryKey: string, link: TransactionLink, fence: Fence): Promise<void> {
    return this.#run(() => {
      if (link.stoppedAt !== null) checkInteger('stoppedAt', link.stoppedAt, 0);
      if (link.remoteStart !== null) checkRemoteStartTag(link.remoteStart);
      this.#requireLease(chargerId, fence);
      const links = this.#charger(chargerId).links;
      let bySecondary = links.get(secondaryKey);
      if (bySecondary === undefined) {
        bySecondary = new Map();
        links.set(secondaryKey, bySecondary);
      }
      const known = bySecondary.get(link.startRef)?.link;
      // A resent start carries nulls where answers have since filled in ids: a null never
      // erases what is known, and a put never un-stops a link.
      const merged: TransactionLink = {
        startRef: link.startRef,
        primaryTxId: link.primaryTxId ?? known?.primaryTxId ?? null,
        secondaryTxId: link.secondaryTxId ?? known?.secondaryTxId ?? null,
        remoteStart: link.remoteStart === null ? (known?.remoteStart ?? null) : copyRemoteStartTag(link.remoteStart),
        stoppedAt: link.stoppedAt ?? known?.stoppedAt ?? null,
      };
      bySecondary.set(link.startRef, this.#stamped(merged));
    });
  }

  setPrimaryTransactionId(chargerId: string, startRef: string, primaryTxId: string, fence: Fence): Promise<void> {
    return this.#run(() => {
      this.#requireLease(chargerId, fence);
      for (const bySecondary of this.#chargers.get(chargerId)?.links.values() ?? []) {
        const known = bySecondary.get(startRef);
        if (known !== undefined) bySecondary.set(startRef, this.#stamped({ ...known.link, primaryTxId }));
      }
    });
  }

  setSecondaryTransactionId(
    chargerId: string,
    secondaryKey: string,
    startRef: string,
    secondaryTxId: string,
    fence: Fence,
  ): Promise<void> {
    return this.#run(() => {
      this.#requireLease(chargerId, fence);
      this.#updateLink(chargerId, secondaryKey, startRef, (link) => ({ ...link, secondaryTxId }));
    });
  }

  markTransactionStopped(chargerId: string, secondaryKey: string, startRef: string, stoppedAt: number, fence: Fence): Promise<void> {
    return this.#run(() => {
      checkInteger('stoppedAt', stoppedAt, 0);
      this.#requireLease(chargerId, fence);
      this.#updateLink(chargerId, secondaryKey, startRef, (link) => ({ ...link, stoppedAt }));
    });
  }

  findTransactionLinkByStartRef(chargerId: string, secondaryKey: string, startRef: string): Promise<TransactionLink | undefined> {
    return this.#run(() => this.#chargers.get(chargerId)?.links.get(secondaryKey)?.get(startRef)?.link);
  }

  findTransactionLinkByPrimaryId(chargerId: string, secondaryKey: string, primaryTxId: string): Promise<TransactionLink | undefined> {
    return this.#run(() => {
      let latest: MemoryLink | undefined;
      for (const candidate of this.#chargers.get(chargerId)?.links.get(secondaryKey)?.values() ?? []) {
        if (candidate.link.primaryTxId !== primaryTxId) continue;
        if (latest === undefined || candidate.updatedAt > latest.updatedAt) latest = candidate;
        else if (candidate.updatedAt === latest.updatedAt && candidate.updateOrder > latest.updateOrder) latest = candidate;
      }
      return latest?.link;
    });
  }

  // ── boot replay ─────────────────────────────────────────────────────────

  saveLastBoot(chargerId: string, frame: string): Promise<void> {
    return this.#run(() => {
      const charger = this.#charger(chargerId);
      charger.lastBoot = frame;
      charger.lastSeen = this.#now();
    });
  }

  loadLastBoot(chargerId: string): Promise<string | undefined> {
    return this.#run(() => this.#chargers.get(chargerId)?.lastBoot);
  }

  // ── ownership ───────────────────────────────────────────────────────────

  acquireLease(chargerId: string, owner: string, ttlMs: number, replacing?: string): Promise<LeaseGrant | undefined> {
    return this.#run(() => {
      checkTtl(ttlMs);
      const now = this.#now();
      const lease = this.#leases.get(chargerId);
      if (lease !== undefined && lease.owner !== null && lease.owner !== owner && lease.owner !== replacing && lease.expiresAt > now) return undefined;
      const grant: LeaseGrant = { chargerId, owner, token: (lease?.token ?? 0) + 1, expiresAt: now + ttlMs };
      this.#leases.set(chargerId, { owner, token: grant.token, expiresAt: grant.expiresAt });
      return grant;
    });
  }

  leaseHolder(chargerId: string): Promise<{ readonly owner: string; readonly expiresAt: number } | undefined> {
    return this.#run(() => {
      const lease = this.#leases.get(chargerId);
      if (lease === undefined || lease.owner === null || lease.expiresAt <= this.#now()) return undefined;
      return { owner: lease.owner, expiresAt: lease.expiresAt };
    });
  }

  /** A lease that expired but that nobody took since is renewed: no other owner can have written under it. */
  renewLease(chargerId: string, fence: Fence, ttlMs: number): Promise<LeaseGrant | undefined> {
    return this.#run(() => {
      checkTtl(ttlMs);
      const lease = this.#leases.get(chargerId);
      if (lease?.owner !== fence.owner || lease.token !== fence.token) return undefined;
      lease.expiresAt = this.#now() + ttlMs;
      return { chargerId, owner: fence.owner, token: fence.token, expiresAt: lease.expiresAt };
    });
  }

  releaseLease(chargerId: string, fence: Fence): Promise<void> {
    return this.#run(() => {
      const lease = this.#leases.get(chargerId);
      if (lease?.owner !== fence.owner || lease.token !== fence.token) return;
      lease.owner = null;
      lease.expiresAt = 0;
    });
  }

  // ── upkeep ──────────────────────────────────────────────────────────────

  /** Same rules as the SQLite store: a held lease protects everything but links stopped longer ago than the grace. */
  prune(policy: PrunePolicy): Promise<PruneReport> {
    return this.#run(() => {
      checkInteger('now', policy.now, 0);
      checkInteger('retentionMs', policy.retentionMs, 0);
      checkInteger('stoppedLinkGraceMs', policy.stoppedLinkGraceMs, 0);
      const { now } = policy;
      const cutoff = now - policy.retentionMs;
      const stopCutoff = now - policy.stoppedLinkGraceMs;
      const configured = new Set(policy.configuredSecondaries);
      const report = { staleOutboxEntries: 0, orphanOutboxEntries: 0, transactionLinks: 0, remoteStarts: 0, lastBoots: 0 };
      for (const [chargerId, charger] of this.#chargers) {
        const held = this.#isHeld(chargerId, now);
        if (!held && charger.lastSeen !== undefined && charger.lastSeen < cutoff) {
          for (const entries of charger.streams.values()) report.staleOutboxEntries += entries.entries.length;
          for (const bySecondary of charger.links.values()) report.transactionLinks += bySecondary.size;
          report.remoteStarts += charger.remoteStarts.size;
          if (charger.lastBoot !== undefined) report.lastBoots += 1;
          this.#chargers.delete(chargerId);
          continue;
        }
        for (const [secondaryKey, entries] of charger.streams) {
          if (held || configured.has(secondaryKey)) continue;
          report.orphanOutboxEntries += entries.entries.length;
          charger.streams.delete(secondaryKey);
        }
        for (const bySecondary of charger.links.values()) {
          for (const [startRef, { link, updatedAt }] of bySecondary) {
            const finished = link.stoppedAt !== null && link.stoppedAt < stopCutoff;
            if (!finished && (held || updatedAt >= cutoff)) continue;
            bySecondary.delete(startRef);
            report.transactionLinks += 1;
          }
        }
        for (const [secondaryKey, { savedAt }] of charger.remoteStarts) {
          if (held || savedAt >= cutoff) continue;
          charger.remoteStarts.delete(secondaryKey);
          report.remoteStarts += 1;
        }
        forgetIfEmpty(this.#chargers, chargerId, charger);
      }
      return report;
    });
  }

  flush(): Promise<void> {
    return this.#run(() => undefined);
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  // ── internals ───────────────────────────────────────────────────────────

  /** Runs `operation` now; a throw (a closed store, a bad argument) becomes the promise's rejection. */
  #run<T>(operation: () => T): Promise<T> {
    try {
      if (this.#closed) throw new StoreError(ErrorCode.StoreUnavailable, 'store is closed');
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #charger(chargerId: string): MemoryCharger {
    let charger = this.#chargers.get(chargerId);
    if (charger === undefined) {
      charger = { lastSeen: undefined, streams: new Map(), links: new Map(), remoteStarts: new Map(), lastBoot: undefined };
      this.#chargers.set(chargerId, charger);
    }
    return charger;
  }

  #stream(stream: StreamKey): MemoryStream | undefined {
    return this.#chargers.get(stream.chargerId)?.streams.get(stream.secondaryKey);
  }

  #stamped(link: TransactionLink): MemoryLink {
    this.#updates += 1;
    return { link, updatedAt: this.#now(), updateOrder: this.#updates };
  }

  #updateLink(chargerId: string, secondaryKey: string, startRef: string, update: (link: TransactionLink) => TransactionLink): void {
    const bySecondary = this.#chargers.get(chargerId)?.links.get(secondaryKey);
    const known = bySecondary?.get(startRef);
    if (bySecondary !== undefined && known !== undefined) bySecondary.set(startRef, this.#stamped(update(known.link)));
  }

  #isHeld(chargerId: string, now: number): boolean {
    const lease = this.#leases.get(chargerId);
    return lease !== undefined && lease.owner !== null && lease.expiresAt > now;
  }

  #requireLease(chargerId: string, fence: Fence): void {
    const lease = this.#leases.get(chargerId);
    if (lease?.owner === fence.owner && lease.token === fence.token && lease.expiresAt > this.#now()) return;
    throw new StoreError(
      ErrorCode.LeaseLost,
      `the lease of charger ${chargerId} is no longer held by ${fence.owner} with token ${fence.token}`,
    );
  }
}

/** Drops a charger that has nothing left and was never seen (it only ever had links or remote starts). */
function forgetIfEmpty(chargers: Map<string, MemoryCharger>, chargerId: string, charger: MemoryCharger): void {
  for (const [secondaryKey, bySecondary] of charger.links) if (bySecondary.size === 0) charger.links.delete(secondaryKey);
  const empty = charger.streams.size === 0 && charger.links.size === 0 && charger.remoteStarts.size === 0 && charger.lastBoot === undefined;
  if (empty && charger.lastSeen === undefined) chargers.delete(chargerId);
}

/** Index of the first entry with `seq > afterSeq` (entries are ordered by seq). */
function firstAfter(entries: readonly OutboxRecord[], afterSeq: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((entries[middle]?.seq ?? Number.POSITIVE_INFINITY) <= afterSeq) low = middle + 1;
    else high = middle;
  }
  return low;
}
