/**
 * Checks chargers' passwords against `chargers[].password_hash` (`charger_auth: local | both`).
 *
 * scrypt is made to be costly, and anyone on the network can make the proxy run it: so it runs on libuv's
 * thread pool (the event loop keeps serving every charger), at most `maxRunning` at once with at most
 * `maxWaiting` more waiting their turn, and past that a check is not run at all (`busy`: the caller answers
 * 503). The thread pool is shared with DNS look-ups (dialling upstreams), file access and permessage-deflate,
 * so the default leaves half of its four threads to them.
 *
 * A charger that reconnects every few seconds must not cost a scrypt each time: a password once verified is
 * remembered for `cacheTtlMs`, as an HMAC under a key that lives only in this process's memory, one entry
 * per configured charger (a wrong password never replaces it, so failed attempts cannot make the real
 * charger's next check costly).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { verifyPassword, type PasswordHash } from './password-hash.js';

/** Checks running at once: half of libuv's default thread pool (4). */
export const MAX_RUNNING_PASSWORD_CHECKS = 2;
/** Checks waiting for a thread; with some 50 ms a check, the last waits about a second. */
export const MAX_WAITING_PASSWORD_CHECKS = 32;
/** How long a verified password is taken again without scrypt. */
export const PASSWORD_CACHE_TTL_MS = 5 * 60_000;

export type PasswordCheck =
  | 'accepted'
  | 'rejected'
  /** No `chargers` entry for this identity. */
  | 'unknown'
  /** Too many checks running and waiting: not checked. */
  | 'busy'
  /** `signal` aborted while the check waited for its turn. */
  | 'aborted';

export interface ChargerPasswordsOptions {
  readonly maxRunning?: number;
  readonly maxWaiting?: number;
  readonly cacheTtlMs?: number;
  readonly now?: () => number;
  /** scrypt by default; tests inject a check they control. */
  readonly verify?: (password: Buffer, hash: PasswordHash) => Promise<boolean>;
}

interface Remembered {
  readonly digest: Buffer;
  readonly expiresAt: number;
}

export class ChargerPasswords {
  readonly #hashes: ReadonlyMap<string, PasswordHash>;
  readonly #maxRunning: number;
  readonly #maxWaiting: number;
  readonly #cacheTtlMs: number;
  readonly #now: () => number;
  readonly #verify: (password: Buffer, hash: PasswordHash) => Promise<boolean>;
  /** Never leaves the process: the remembered digests are worthless without it. */
  readonly #cacheKey = randomBytes(32);
  readonly #remembered = new Map<string, Remembered>();
  readonly #waiting: Array<() => void> = [];
  #running = 0;

  constructor(hashes: ReadonlyMap<string, PasswordHash>, options: ChargerPasswordsOptions = {}) {
    this.#hashes = hashes;
    this.#maxRunning = options.maxRunning ?? MAX_RUNNING_PASSWORD_CHECKS;
    this.#maxWaiting = options.maxWaiting ?? MAX_WAITING_PASSWORD_CHECKS;
    this.#cacheTtlMs = options.cacheTtlMs ?? PASSWORD_CACHE_TTL_MS;
    this.#now = options.now ?? Date.now;
    this.#verify = options.verify ?? verifyPassword;
  }

  /** Whether a `chargers` entry exists for `identity`. */
  has(identity: string): boolean {
    return this.#hashes.has(identity);
  }

  /** Checks running now (at most `maxRunning`). */
  get running(): number {
    return this.#running;
  }

  /** Checks waiting for their turn (at most `maxWaiting`). */
  get waiting(): number {
    return this.#waiting.length;
  }

  get maxRunning(): number {
    return this.#maxRunning;
  }

  get maxWaiting(): number {
    return this.#maxWaiting;
  }

  /** Checks `password` for `identity`; `signal` gives up the turn of a charger that left while it waited. */
  async check(identity: string, password: Buffer, signal: AbortSignal): Promise<PasswordCheck> {
    const hash = this.#hashes.get(identity);
    if (hash === undefined) return 'unknown';
    const digest = createHmac('sha256', this.#cacheKey).update(identity).update('\0').update(password).digest();
    const remembered = this.#remembered.get(identity);
    if (remembered !== undefined && remembered.expiresAt > this.#now() && timingSafeEqual(remembered.digest, digest)) return 'accepted';

    const turn = await this.#takeTurn(signal);
    if (turn !== 'granted') return turn;
    let accepted: boolean;
    try {
      accepted = await this.#verify(password, hash);
    } finally {
      this.#endTurn();
    }
    if (!accepted) return 'rejected';
    this.#remembered.set(identity, { digest, expiresAt: this.#now() + this.#cacheTtlMs });
    return 'accepted';
  }

  #takeTurn(signal: AbortSignal): Promise<'granted' | 'busy' | 'aborted'> {
    if (signal.aborted) return Promise.resolve('aborted');
    if (this.#running < this.#maxRunning) {
      this.#running += 1;
      return Promise.resolve('granted');
    }
    if (this.#waiting.length >= this.#maxWaiting) return Promise.resolve('busy');
    return new Promise((resolve) => {
      const granted = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve('granted');
      };
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(granted);
        if (index !== -1) this.#waiting.splice(index, 1);
        resolve('aborted');
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(granted);
    });
  }

  /** Hands the finished check's turn to the next waiting one, if any. */
  #endTurn(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#running -= 1;
    else next();
  }
}
