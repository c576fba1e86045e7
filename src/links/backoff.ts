/** ±20%: enough that thousands of links dropped by one outage do not come back in lockstep. */
const JITTER = 0.2;

/**
 * Delay before reconnect attempt number `failures` (0 = the first retry):
 * `baseMs` doubling per failure up to `maxMs`, then spread by ±20% jitter.
 */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
  return Math.round(exponential * (1 - JITTER + 2 * JITTER * random()));
}
