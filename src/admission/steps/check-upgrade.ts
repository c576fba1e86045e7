import { ErrorCode } from '../../errors.js';
import type { AdmissionStep } from '../chain.js';
import { chargerRefused } from '../refusal.js';
import { checkUpgradeRequest } from '../upgrade-request.js';

/**
 * Refuses a request that is not a WebSocket upgrade the proxy can complete, before
 * anything is dialled; keeps the sub-protocols the charger offered.
 */
export const checkUpgrade: AdmissionStep = function checkUpgrade(handshake) {
  const check = checkUpgradeRequest(handshake.request);
  if (!check.ok) throw chargerRefused(ErrorCode.UpgradeInvalid, check.status, check.reason, check.headers);
  handshake.offeredSubprotocols = check.subprotocols;
};
