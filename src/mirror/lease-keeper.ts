/**
 * This process's ownership of chargers, held as leases in the store: only the
 * owner delivers a charger's outboxes and writes its transaction books, and every
 * such write carries the lease's fencing token, so a stale owner's write is refused
 * by the store itself. Sessions of one charger in this process share one lease
 * (a replacement does not hand it over); `workers` siblings and other instances
 * wait until it is released or has expired.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { channels } from '../diagnostics/channels.js';
import { backoffDelay } from '../links/backoff.js';
import type { Logger } from '../logging/logger.js';
import type { Fence, LeaseGrant, MirrorStore } from '../store/store.js';

/** How often a charger whose lease another owner holds asks again, at most. */
const ACQUIRE_RETRY_MAX_MS = 2_000;
const ACQUIRE_RETRY_BASE_MS = 50;

export interface LeaseHandle {
  /** Resolves once this process holds the charger's lease (at once when it already does). */
  fence(): Promise<Fence>;
  /**
   * Whether the lease is held and has not expired by this process's clock: checked before
   * every send, so a process that lost its lease stops delivering before another can start.
   */
  valid(): boolean;
  /** The lease held now, if any. */
  current(): Fence | undefined;
  /** The store refused this fence: the lease is gone; it is asked for again. No effect for an older fence. */
  lost(fence: Fence): void;
  /** This session no longer needs the lease; the last one to let go releases it. Idempotent. */
  release(): Promise<void>;
}

interface Held {
  refs: number;
  grant: LeaseGrant | undefined;
  /** Settles with the fence once acquired. */
  acquired: Promise<Fence>;
  resolve: (fence: Fence) => void;
  timer: NodeJS.Timeout | undefined;
  attempts: number;
}

/** A name for this process as a lease owner, `host:pid:random`: unique across hosts, processes and restarts. */
export function processOwnerId(): string {
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  OWNERS_IN_THIS_PROCESS.add(owner);
  return owner;
}

/** Owners made by this process (several proxies may run in one process, e.g. in tests): all alive. */
const OWNERS_IN_THIS_PROCESS = new Set<string>();

/**
 * Whether `owner` (as made by `processOwnerId`) is a process of this host that no longer runs.
 * Its own pid with a random part this process never made is an earlier life of this very process
 * (a container's PID 1 restarted). A pid that another process reuses reads as alive: then the lease simply expires.
 */
export function isGoneLocalProcess(owner: string, self: string): boolean {
  const parts = owner.split(':');
  if (parts.length < 3 || owner === self) return false;
  const pid = Number(parts.at(-2));
  const host = parts.slice(0, -2).join(':');
  if (host !== hostname() || !Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return !OWNERS_IN_THIS_PROCESS.has(owner);
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'ESRCH';
  }
}

export class LeaseKeeper {
  readonly owner: string;
  readonly #store: MirrorStore;
  readonly #ttlMs: number;
  readonly #log: Logger;
  readonly #held = new Map<string, Held>();

  constructor(store: MirrorStore, owner: string, ttlMs: number, log: Logger) {
    this.#store = store;
    this.owner = owner;
    this.#ttlMs = ttlMs;
    this.#log = log;
  }

  /** Chargers whose lease this process holds or wants. */
  get size(): number {
    return this.#held.size;
  }

  hold(chargerId: string): LeaseHandle {
    let held = this.#held.get(chargerId);
    if (held === undefined) {
      let resolve!: (fence: Fence) => void;
      const acquired = new Promise<Fence>((r) => (resolve = r));
      held = { refs: 0, grant: undefined, acquired, resolve, timer: undefined, attempts: 0 };
      this.#held.set(chargerId, held);
      this.#acquire(chargerId, held);
    }
    held.refs += 1;
    const entry = held;
    let released = false;
    return {
      fence: () => entry.acquired,
      valid: () => entry.grant !== undefined && entry.grant.expiresAt > Date.now(),
      current: () => entry.grant,
      lost: (fence) => this.#lost(chargerId, entry, fence),
      release: () => {
        if (released) return Promise.resolve();
        released = true;
        return this.#release(chargerId, entry);
      },
    };
  }

  /** Releases every lease (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.#held].map(([chargerId, held]) => {
      held.refs = 1;
      return this.#release(chargerId, held);
    }));
  }

  #acquire(chargerId: string, held: Held, replacing?: string): void {
    this.#store.acquireLease(chargerId, this.owner, this.#ttlMs, replacing).then(
      (grant) => {
        if (this.#held.get(chargerId) !== held) {
          // Let go while we were asking: give it back.
          if (grant !== undefined) void this.#store.releaseLease(chargerId, grant).catch(() => undefined);
          return;
        }
        if (grant === undefined) {
          if (replacing !== undefined) this.#retry(chargerId, held);
          else this.#takeFromTheDeadOrWait(chargerId, held);
          return;
        }
        held.grant = grant;
        held.attempts = 0;
        channels.leaseAcquired.publish({ chargerId, owner: this.owner, token: grant.token });
        held.resolve(grant);
        this.#scheduleRenew(chargerId, held);
      },
      (error: unknown) => {
        if (held.attempts === 0) this.#log.warn({ err: error, charger: chargerId }, 'lease cannot be taken yet (store unavailable); retrying');
        this.#retry(chargerId, held);
      },
    );
  }

  /**
   * The lease is held by someone else. When that is a process of this host that no longer
   * runs (this proxy before a crash or a SIGKILL, a worker that died), it is taken at once:
   * waiting for its expiry would only delay the mirror. Otherwise, ask again later.
   */
  #takeFromTheDeadOrWait(chargerId: string, held: Held): void {
    const singleHost = this.#store.engine === 'sqlite' || this.#store.engine === 'memory';
    const holder = singleHost ? this.#store.leaseHolder(chargerId) : Promise.resolve(undefined);
    holder.then(
      (current) => {
        if (this.#held.get(chargerId) !== held) return;
        if (current !== undefined && isGoneLocalProcess(current.owner, this.owner)) {
          this.#log.info({ charger: chargerId }, 'lease held by a process of this host that is gone: taken over');
          this.#acquire(chargerId, held, current.owner);
          return;
        }
        if (held.attempts === 0) this.#log.info({ charger: chargerId }, 'charger owned by another process: its mirror waits for the lease');
        this.#retry(chargerId, held);
      },
      () => this.#retry(chargerId, held),
    );
  }

  #retry(chargerId: string, held: Held): void {
    const delayMs = backoffDelay(held.attempts, ACQUIRE_RETRY_BASE_MS, Math.min(ACQUIRE_RETRY_MAX_MS, this.#ttlMs));
    held.attempts += 1;
    held.timer = setTimeout(() => this.#acquire(chargerId, held), delayMs).unref();
  }

  #scheduleRenew(chargerId: string, held: Held): void {
    held.timer = setTimeout(() => this.#renew(chargerId, held), Math.max(1, Math.floor(this.#ttlMs / 3))).unref();
  }

  #renew(chargerId: string, held: Held): void {
    const grant = held.grant;
    if (grant === undefined || this.#held.get(chargerId) !== held) return;
    this.#store.renewLease(chargerId, grant, this.#ttlMs).then(
      (renewed) => {
        if (this.#held.get(chargerId) !== held) return;
        if (renewed === undefined) {
          this.#lost(chargerId, held, grant);
          return;
        }
        held.grant = renewed;
        this.#scheduleRenew(chargerId, held);
      },
      (error: unknown) => {
        // A store that cannot be written for a moment: try again sooner; the lease holds until it expires.
        this.#log.warn({ err: error, charger: chargerId }, 'lease renewal failed; retrying');
        held.timer = setTimeout(() => this.#renew(chargerId, held), Math.max(1, Math.floor(this.#ttlMs / 10))).unref();
      },
    );
  }

  /** Expired and taken (renewal refused, or a write refused): ask again; deliveries wait for the new grant. */
  #lost(chargerId: string, held: Held, fence: Fence): void {
    if (this.#held.get(chargerId) !== held || held.grant?.token !== fence.token) return;
    this.#log.error({ charger: chargerId, token: fence.token }, 'lease on this charger lost to another owner');
    channels.leaseLost.publish({ chargerId, owner: this.owner, token: fence.token });
    held.grant = undefined;
    clearTimeout(held.timer);
    held.acquired = new Promise<Fence>((resolve) => (held.resolve = resolve));
    this.#acquire(chargerId, held);
  }

  async #release(chargerId: string, held: Held): Promise<void> {
    held.refs -= 1;
    if (held.refs > 0 || this.#held.get(chargerId) !== held) return;
    this.#held.delete(chargerId);
    clearTimeout(held.timer);
    const grant = held.grant;
    if (grant === undefined) return;
    try {
      await this.#store.releaseLease(chargerId, grant);
      channels.leaseReleased.publish({ chargerId, owner: this.owner, token: grant.token });
    } catch (error) {
      // It expires on its own after the TTL.
      this.#log.warn({ err: error, charger: chargerId }, 'lease could not be released; it expires on its own');
    }
  }
}
