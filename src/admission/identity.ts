/**
 * The charge point identity is the last path segment of the URL the charger
 * connects to (OCPP-J 1.6 §3.1.1, 2.0.1 Part 4 §3.1.1). Whatever comes before it
 * (`/`, `/ocpp/`, `/ws/`, any prefix) is ignored, as is the query string.
 */

/** OCPP 2.0.1 Part 4 §3.1.1: the identity is at most 48 characters. */
export const MAX_IDENTITY_LENGTH = 48;

/**
 * OCPP 2.0.1 `identifierString` (a-z A-Z 0-9 * - _ = : + | @ .) without ':', which
 * the identity may not contain because it is the HTTP Basic auth user name
 * (Security profiles 1 and 2). We apply the same rule to 1.6 chargers: the
 * sub-protocol is not known yet when the identity is checked, and the 1.6
 * Security Whitepaper adopts the 2.0.1 rule.
 */
const IDENTITY_PATTERN = /^[A-Za-z0-9*\-_=+|@.]+$/;

export type IdentityResult =
  | {
      readonly ok: true;
      /** The decoded identity, for logs and lookups. */
      readonly identity: string;
      /** The segment exactly as the charger sent it, percent-encoding included: sent upstream unchanged. */
      readonly rawSegment: string;
    }
  | { readonly ok: false; readonly reason: string };

/** Extracts and validates the identity from a request target such as `/ocpp/CP-1?x=1`. */
export function extractIdentity(requestTarget: string | undefined): IdentityResult {
  if (requestTarget === undefined || !requestTarget.startsWith('/')) {
    return { ok: false, reason: 'request target is not a path' };
  }
  const pathEnd = firstIndexOfAny(requestTarget, '?', '#');
  const path = requestTarget.slice(0, pathEnd);
  const rawSegment = path.slice(path.lastIndexOf('/') + 1);
  if (rawSegment === '') {
    return { ok: false, reason: 'no charge point identity in the URL path' };
  }
  let identity: string;
  try {
    identity = decodeURIComponent(rawSegment);
  } catch {
    return { ok: false, reason: 'charge point identity is not valid percent-encoding' };
  }
  if (identity.length > MAX_IDENTITY_LENGTH) {
    return { ok: false, reason: `charge point identity is longer than ${MAX_IDENTITY_LENGTH} characters` };
  }
  if (!IDENTITY_PATTERN.test(identity)) {
    return { ok: false, reason: 'charge point identity contains characters OCPP does not allow' };
  }
  return { ok: true, identity, rawSegment };
}

function firstIndexOfAny(text: string, ...needles: string[]): number {
  let first = text.length;
  for (const needle of needles) {
    const index = text.indexOf(needle);
    if (index !== -1 && index < first) first = index;
  }
  return first;
}
