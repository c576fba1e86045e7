import { ErrorCode } from '../../errors.js';
import type { MemoryBudget } from '../../mirror/memory-budget.js';
import type { AdmissionStep } from '../chain.js';
import { EARLY_BYTES_MARGIN } from '../pending-socket.js';
import { limitReached } from '../refusal.js';

/**
 * From here on the steps wait (for the primary, for a sibling worker): notice the
 * charger leaving, and keep what it sends before its 101, at most one frame's worth
 * (`maxPayloadBytes`) and a margin. With `pendingBytes` (`max_pending_handshake_bytes`),
 * what every pending charger keeps together is bounded too: the charger whose bytes
 * do not fit is refused with 503 (Retry-After), the others keep theirs.
 */
export function watchPendingCharger(maxPayloadBytes: number, pendingBytes?: MemoryBudget): AdmissionStep {
  const maxEarlyBytes = maxPayloadBytes + EARLY_BYTES_MARGIN;
  return function watchPendingCharger(handshake) {
    if (pendingBytes === undefined) {
      handshake.watchSocket(maxEarlyBytes);
      return;
    }
    handshake.watchSocket(maxEarlyBytes, {
      budget: pendingBytes,
      onExhausted: () =>
        handshake.refuse(
          limitReached(ErrorCode.PendingBytesBudget, 'max_pending_handshake_bytes', 'too much data before the handshake completed', {
            max_pending_handshake_bytes: pendingBytes.maxBytes,
          }),
        ),
    });
  };
}
