/** Short histories for the sparklines, and frames per second from the status API's running totals. */

/** How often the pages poll the JSON API. */
export const POLL_INTERVAL_MS = 2_000;

/** Samples kept per series (one per poll): two minutes. */
export const HISTORY_LENGTH = 60;

/** `history` with `value` appended, keeping the last `limit`. */
export function pushSample(history: readonly number[], value: number, limit = HISTORY_LENGTH): number[] {
  const next = [...history, value];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

export interface TotalsSample {
  readonly atMs: number;
  readonly total: number;
}

/**
 * Frames per second between two samples of a running total; null when there is no earlier sample or the
 * total went back (the proxy restarted behind the same admin port).
 */
export function ratePerSecond(previous: TotalsSample | null, next: TotalsSample): number | null {
  if (previous === null) return null;
  const seconds = (next.atMs - previous.atMs) / 1000;
  const delta = next.total - previous.total;
  if (seconds <= 0 || delta < 0) return null;
  return delta / seconds;
}
