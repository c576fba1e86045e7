/** Reconnect delays for the event stream: doubling from the first to the cap, each ±20% jitter. */

export const RECONNECT_FIRST_DELAY_MS = 1_000;
export const RECONNECT_MAX_DELAY_MS = 30_000;
const JITTER = 0.2;

/** The delay before reconnect number `attempt` (0 = the first after a drop). */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RECONNECT_MAX_DELAY_MS, RECONNECT_FIRST_DELAY_MS * 2 ** Math.min(attempt, 16));
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}
