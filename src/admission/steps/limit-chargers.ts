import { ErrorCode } from '../../errors.js';
import type { AdmissionStep } from '../chain.js';
import type { OpenSockets } from '../open-sockets.js';
import { limitReached } from '../refusal.js';

export interface LimitChargersOptions {
  /** `max_connections`. */
  readonly max: number;
  /** Whether a charger of this identity has a session here: its reconnect replaces it, taking no new place. */
  readonly isConnected: (identity: string) => boolean;
  /** The charger connections let through so far, each counted until its socket closes. */
  readonly chargers: OpenSockets;
}

/**
 * Refuses a charger with 503 (Retry-After) when `max` charger connections are open, handshakes let through
 * included (so a burst cannot overshoot while the primary answers). A charger already connected under the
 * same identity is always let through: it replaces its old session, whose socket closes in a moment, and a
 * charger must never be locked out by its own stale connection.
 */
export function limitChargers(options: LimitChargersOptions): AdmissionStep {
  const { max, isConnected, chargers } = options;
  return function limitChargers(handshake) {
    if (chargers.size >= max && !isConnected(handshake.charger.identity)) {
      throw limitReached(ErrorCode.TooManyConnections, 'max_connections', 'too many chargers connected', { max_connections: max });
    }
    chargers.add(handshake.socket);
  };
}
