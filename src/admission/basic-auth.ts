/**
 * The charger's HTTP Basic credentials (RFC 7617), OCPP Security profiles 1 and 2: the user name is the charge
 * point identity, the password its AuthorizationKey (1.6) or BasicAuthPassword (2.0.1).
 */

export type BasicCredentials =
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed' }
  /** Bytes, not text: a 1.6 AuthorizationKey may be any bytes, and a user name is compared byte for byte. */
  | { readonly kind: 'basic'; readonly user: Buffer; readonly password: Buffer };

/** `Basic` (any case), then the base64 of `user:password` (RFC 7617 §2; the padding may be left out). */
const BASIC = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i;
const COLON = 0x3a;

/** Reads an Authorization header; anything but well-formed Basic credentials is `malformed`. */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials {
  if (header === undefined || header.trim() === '') return { kind: 'missing' };
  const token = BASIC.exec(header)?.[1];
  if (token === undefined || token.replace(/=+$/, '').length % 4 === 1) return { kind: 'malformed' };
  const decoded = Buffer.from(token, 'base64');
  // RFC 7617 §2: the user name cannot contain a colon, the password may: split at the first one.
  const colon = decoded.indexOf(COLON);
  if (colon === -1) return { kind: 'malformed' };
  return { kind: 'basic', user: decoded.subarray(0, colon), password: decoded.subarray(colon + 1) };
}
