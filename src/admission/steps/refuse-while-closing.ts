import { ErrorCode } from '../../errors.js';
import { HttpStatus } from '../../http/refuse.js';
import type { AdmissionStep } from '../chain.js';
import { UpgradeRefusal } from '../refusal.js';

/** Refuses every charger with 503 unless the proxy is accepting them (not yet listening, or shutting down). */
export function refuseWhileClosing(accepting: () => boolean): AdmissionStep {
  return function refuseWhileClosing() {
    if (!accepting()) {
      throw new UpgradeRefusal(ErrorCode.ProxyClosed, { status: HttpStatus.ServiceUnavailable, reason: 'proxy is shutting down' });
    }
  };
}
