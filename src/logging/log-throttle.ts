/**
 * At most one line per key and interval, for what anyone on the network can make happen at will (connections
 * refused by a limit): a flood writes a handful of lines, each saying how many like it were left out since the
 * one before, instead of one line per attempt.
 */

/** One line per reason in this long, at most. */
export const THROTTLED_LOG_INTERVAL_MS = 10_000;

interface KeyState {
  lastAt: number;
  suppressed: number;
}

export class LogThrottle {
  readonly #intervalMs: number;
  readonly #now: () => number;
  /** Bounded by the keys callers use: error codes, never anything a client chooses. */
  readonly #keys = new Map<string, KeyState>();

  constructor(intervalMs = THROTTLED_LOG_INTERVAL_MS, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /**
   * Whether a line for `key` may be written now: if so, how many lines for it were left out since the last
   * one written (to log with it); undefined when this one is left out (and counted).
   */
  admit(key: string): { readonly suppressed: number } | undefined {
    const now = this.#now();
    const state = this.#keys.get(key);
    if (state !== undefined && now - state.lastAt < this.#intervalMs) {
      state.suppressed += 1;
      return undefined;
    }
    const suppressed = state?.suppressed ?? 0;
    this.#keys.set(key, { lastAt: now, suppressed: 0 });
    return { suppressed };
  }
}
