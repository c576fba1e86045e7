import { ErrorCode } from '../../errors.js';
import { HttpStatus } from '../../http/refuse.js';
import type { AdmissionStep } from '../chain.js';
import type { IdPatterns } from '../id-patterns.js';
import { UpgradeRefusal } from '../refusal.js';

/**
 * `allowed_chargers`: refuses a charge point id that matches none of the patterns with 404, before anything
 * costly (a password check, the primary) is spent on it. Throttled: anyone can send ids at will.
 */
export function checkAllowedCharger(allowed: IdPatterns): AdmissionStep {
  return function checkAllowedCharger(handshake) {
    if (allowed.matches(handshake.charger.identity)) return;
    const status = HttpStatus.NotFound;
    const reason = 'unknown charge point id';
    throw new UpgradeRefusal(ErrorCode.ChargerUnknown, {
      status,
      reason,
      log: { level: 'warn', message: 'charger refused: id not in allowed_chargers', fields: { status, reason }, throttled: true },
    });
  };
}
