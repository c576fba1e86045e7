import type { PrimaryToWorker } from './messages.js';

/** How long the primary waits for a worker to release a session before granting the claim anyway. */
export const RELEASE_TIMEOUT_MS = 5_000;

/**
 * The cluster primary's map of which worker serves which charge point. Claims
 * for one identity are handled one after another; a claim for an identity
 * another worker serves first asks that worker to release it.
 */
export class SessionDirectory {
  readonly #owners = new Map<string, number>();
  /** Per identity, the tail of its claim chain: claims for one charger never overlap. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #releases = new Map<number, { workerId: number; done: () => void }>();
  readonly #send: (workerId: number, message: PrimaryToWorker) => void;
  readonly #onReleaseTimeout: (identity: string, workerId: number) => void;
  #nextRequestId = 1;

  constructor(send: (workerId: number, message: PrimaryToWorker) => void, onReleaseTimeout: (identity: string, workerId: number) => void = () => {}) {
    this.#send = send;
    this.#onReleaseTimeout = onReleaseTimeout;
  }

  get size(): number {
    return this.#owners.size;
  }

  ownerOf(identity: string): number | undefined {
    return this.#owners.get(identity);
  }

  /** Worker `workerId` wants `identity`; resolves when it may serve it. */
  claim(identity: string, workerId: number): Promise<void> {
    const previous = this.#chains.get(identity) ?? Promise.resolve();
    const next = previous.then(async () => {
      const owner = this.#owners.get(identity);
      this.#owners.set(identity, workerId);
      if (owner !== undefined && owner !== workerId) await this.#release(identity, owner);
    });
    this.#chains.set(identity, next);
    void next.then(() => {
      if (this.#chains.get(identity) === next) this.#chains.delete(identity);
    });
    return next;
  }

  ended(identity: string, workerId: number): void {
    if (this.#owners.get(identity) === workerId) this.#owners.delete(identity);
  }

  released(requestId: number): void {
    this.#releases.get(requestId)?.done();
  }

  /** A worker exited: it serves nothing any more, and releases it owed are moot. */
  workerGone(workerId: number): void {
    for (const [identity, owner] of this.#owners) if (owner === workerId) this.#owners.delete(identity);
    for (const pending of [...this.#releases.values()]) if (pending.workerId === workerId) pending.done();
  }

  #release(identity: string, workerId: number): Promise<void> {
    const requestId = this.#nextRequestId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onReleaseTimeout(identity, workerId);
        done();
      }, RELEASE_TIMEOUT_MS).unref();
      const done = (): void => {
        clearTimeout(timer);
        this.#releases.delete(requestId);
        resolve();
      };
      this.#releases.set(requestId, { workerId, done });
      this.#send(workerId, { ocppSplitter: 'release', requestId, identity });
    });
  }
}
