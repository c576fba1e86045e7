import type { Handshake } from './handshake.js';

/**
 * One check or preparation of a charger's upgrade, before any 101. Returns (or
 * resolves) to let the next step run; throws an `UpgradeRefusal` to answer the
 * charger with an HTTP status instead. What it opens or claims for the charger it
 * registers with `handshake.onAbandon`. `signal` aborts when the charger leaves or
 * the proxy shuts down: pass it to whatever the step waits for.
 */
export type AdmissionStep = (handshake: Handshake, signal: AbortSignal) => Promise<void> | void;

/**
 * Runs `steps` in order; the first refusal (or any error) stops the chain and rejects with it. A refusal
 * made from outside the running step ({@link Handshake.refuse}) wins over what that step throws.
 */
export async function runAdmission(steps: readonly AdmissionStep[], handshake: Handshake, signal: AbortSignal): Promise<void> {
  for (const step of steps) {
    try {
      await step(handshake, signal);
    } catch (error) {
      throw handshake.refusal ?? error;
    }
    if (handshake.refusal !== undefined) throw handshake.refusal;
  }
}
