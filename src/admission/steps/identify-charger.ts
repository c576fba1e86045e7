import { ErrorCode } from '../../errors.js';
import { HttpStatus } from '../../http/refuse.js';
import type { AdmissionStep } from '../chain.js';
import { extractIdentity } from '../identity.js';
import { chargerRefused } from '../refusal.js';

/** Takes the charge point identity from the URL path; refuses a missing or invalid one with 400. */
export const identifyCharger: AdmissionStep = function identifyCharger(handshake) {
  const id = extractIdentity(handshake.request.url);
  if (!id.ok) throw chargerRefused(ErrorCode.IdentityInvalid, HttpStatus.BadRequest, id.reason);
  handshake.charger = { identity: id.identity, urlSegment: id.urlSegment };
};
