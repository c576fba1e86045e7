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
/**
 * The identity characters a URL path carries as they are (RFC 3986 §3.3 pchar: unreserved, sub-delims, '@').
 * Of OCPP's set only '|' is not one of them, so '%7C' is the one percent-encoding an identity needs.
 */
const WRITTEN_AS_IS = /^[A-Za-z0-9*\-_=+@.]$/;
const PERCENT_ESCAPE = /%([0-9A-Fa-f]{2})/g;
/** RFC 3986 §5.2.4: as a path segment these name the current and the parent directory, never a charger. */
const DOT_SEGMENTS: ReadonlySet<string> = new Set(['.', '..']);

export type IdentityResult =
  | {
      readonly ok: true;
      /** The decoded identity: the one name of the charger for sessions, the store and logs. */
      readonly identity: string;
      /** The identity percent-encoded the one canonical way ({@link canonicalSegment}): what upstream URLs carry. */
      readonly urlSegment: string;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Extracts and validates the identity from a request target such as `/ocpp/CP-1?x=1`.
 *
 * One charger, one name: the proxy and every CSMS behind it must agree on who connected. A percent-encoding
 * of a character that needs none (`%43P-1` for `CP-1`) is refused, so no second spelling of a connected
 * charger's id can replace its session, and upstream URLs carry the canonical spelling, so a CSMS that
 * compares raw paths sees the same id the proxy does. `.` and `..` (also as `%2e`) are refused: appended to
 * an endpoint they would make its URL climb a level.
 */
export function extractIdentity(requestTarget: string | undefined): IdentityResult {
  if (requestTarget === undefined || !requestTarget.startsWith('/')) {
    return { ok: false, reason: 'request target is not a path' };
  }
  const pathEnd = firstIndexOfAny(requestTarget, '?', '#');
  const path = requestTarget.slice(0, pathEnd);
  const urlSegment = path.slice(path.lastIndexOf('/') + 1);
  if (urlSegment === '') {
    return { ok: false, reason: 'no charge point identity in the URL path' };
  }
  let identity: string;
  try {
    identity = decodeURIComponent(urlSegment);
  } catch {
    return { ok: false, reason: 'charge point identity is not valid percent-encoding' };
  }
  const problem = identityProblem(identity);
  if (problem !== undefined) return { ok: false, reason: problem };
  for (const [escape, hex] of urlSegment.matchAll(PERCENT_ESCAPE)) {
    // Every escape decodes to one ASCII character here: identityProblem allows nothing else.
    const character = String.fromCharCode(Number.parseInt(hex ?? '', 16));
    if (WRITTEN_AS_IS.test(character)) {
      return { ok: false, reason: `charge point identity has a needless percent-encoding (${escape.toUpperCase()} is ${character})` };
    }
  }
  return { ok: true, identity, urlSegment: canonicalSegment(identity) };
}

/** Why `identity` (decoded) cannot be a charge point identity, or undefined when it can. */
export function identityProblem(identity: string): string | undefined {
  if (identity.length > MAX_IDENTITY_LENGTH) return `charge point identity is longer than ${MAX_IDENTITY_LENGTH} characters`;
  if (!IDENTITY_PATTERN.test(identity)) return 'charge point identity contains characters OCPP does not allow';
  if (DOT_SEGMENTS.has(identity)) return 'charge point identity may not be . or ..';
  return undefined;
}

/** The identity as a URL path segment: every character as it is, but those RFC 3986 does not allow there. */
export function canonicalSegment(identity: string): string {
  let segment = '';
  for (const character of identity) segment += WRITTEN_AS_IS.test(character) ? character : encodeURIComponent(character);
  return segment;
}

function firstIndexOfAny(text: string, ...needles: string[]): number {
  let first = text.length;
  for (const needle of needles) {
    const index = text.indexOf(needle);
    if (index !== -1 && index < first) first = index;
  }
  return first;
}
