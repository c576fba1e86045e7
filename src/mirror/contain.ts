import type { Logger } from '../logging/logger.js';
import type { MirrorCounters } from './counters.js';

/**
 * Runs mirror work so that its failure stays in the mirror: a secondary or the
 * store failing must never reach the charger's or the primary's frame path
 * (where an exception would end the process). The failure is logged and counted.
 */
export function contain<T>(log: Logger, counters: MirrorCounters, what: string, work: () => T, fallback: T): T {
  try {
    return work();
  } catch (error) {
    counters.mirrorFailures += 1;
    log.error({ err: error, during: what }, 'mirror failure contained; the charger and the primary are unaffected');
    return fallback;
  }
}
