import type { AdmissionStep } from '../chain.js';
import { EARLY_BYTES_MARGIN } from '../pending-socket.js';

/**
 * From here on the steps wait (for the primary, for a sibling worker): notice the
 * charger leaving, and keep what it sends before its 101, at most one frame's worth
 * (`maxPayloadBytes`) and a margin.
 */
export function watchPendingCharger(maxPayloadBytes: number): AdmissionStep {
  const maxEarlyBytes = maxPayloadBytes + EARLY_BYTES_MARGIN;
  return function watchPendingCharger(handshake) {
    handshake.watchSocket(maxEarlyBytes);
  };
}
