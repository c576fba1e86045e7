import type { SessionCoordinator } from '../../cluster/coordinator.js';
import type { AdmissionStep } from '../chain.js';

/**
 * With sibling workers, waits until none of them serves this charger any more
 * (its session there closed and its durable state written). Should the charger
 * then not be admitted, the claim is given back, unless this process still
 * serves the identity (`servedHere`: an older connection, replaced locally).
 */
export function claimFromSiblings(coordinator: SessionCoordinator, servedHere: (identity: string) => boolean): AdmissionStep {
  return async function claimFromSiblings(handshake, signal) {
    // The charger left while the primary answered: the proxy drops it, there is nothing to claim for.
    if (signal.aborted) return;
    const { identity } = handshake.charger;
    handshake.onAbandon(() => {
      if (!servedHere(identity)) coordinator.ended(identity);
    });
    await coordinator.claim(identity);
  };
}
