/**
 * CALLERROR codes per OCPP version. The versions spell two codes differently (1.6 "FormationViolation" and the
 * misspelt "OccurenceConstraintViolation"; 2.x "FormatViolation" and "OccurrenceConstraintViolation") and 2.x
 * adds two. The proxy works with version-neutral kinds and spells them the link's way only when it writes a
 * frame; when it reads one it accepts either spelling (OCPP-J 1.6 §4.2.3, OCPP 2.0.1 Part 4 §4.3).
 */

export type OcppVersion = '1.6' | '2.0.1' | '2.1';

/** Every version-neutral CALLERROR kind; the tables below must cover each one. */
export const ERROR_KINDS = [
  'format-violation',
  'generic-error',
  'internal-error',
  'message-type-not-supported',
  'not-implemented',
  'not-supported',
  'occurrence-constraint-violation',
  'property-constraint-violation',
  'protocol-error',
  'rpc-framework-error',
  'security-error',
  'type-constraint-violation',
] as const;

/** A version-neutral name for a CALLERROR code. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** OCPP-J 1.6 §4.2.3, spelt exactly as the spec spells them (typos included). */
export type ErrorCode16 =
  | 'NotImplemented'
  | 'NotSupported'
  | 'InternalError'
  | 'ProtocolError'
  | 'SecurityError'
  | 'FormationViolation'
  | 'PropertyConstraintViolation'
  | 'OccurenceConstraintViolation'
  | 'TypeConstraintViolation'
  | 'GenericError';

/** OCPP 2.0.1 / 2.1 Part 4 §4.3. */
export type ErrorCode2x =
  | 'FormatViolation'
  | 'GenericError'
  | 'InternalError'
  | 'MessageTypeNotSupported'
  | 'NotImplemented'
  | 'NotSupported'
  | 'OccurrenceConstraintViolation'
  | 'PropertyConstraintViolation'
  | 'ProtocolError'
  | 'RpcFrameworkError'
  | 'SecurityError'
  | 'TypeConstraintViolation';

export type OcppErrorCode = ErrorCode16 | ErrorCode2x;

const CODES_16: Readonly<Record<ErrorKind, ErrorCode16>> = {
  'format-violation': 'FormationViolation',
  'generic-error': 'GenericError',
  'internal-error': 'InternalError',
  // 1.6 has no such code. OCPP-J 1.6 leaves unknown message types undefined; NotSupported is the closest code
  // that every 1.6 peer understands.
  'message-type-not-supported': 'NotSupported',
  'not-implemented': 'NotImplemented',
  'not-supported': 'NotSupported',
  'occurrence-constraint-violation': 'OccurenceConstraintViolation',
  'property-constraint-violation': 'PropertyConstraintViolation',
  'protocol-error': 'ProtocolError',
  // 1.6 has no RpcFrameworkError; GenericError is its catch-all.
  'rpc-framework-error': 'GenericError',
  'security-error': 'SecurityError',
  'type-constraint-violation': 'TypeConstraintViolation',
};

const CODES_2X: Readonly<Record<ErrorKind, ErrorCode2x>> = {
  'format-violation': 'FormatViolation',
  'generic-error': 'GenericError',
  'internal-error': 'InternalError',
  'message-type-not-supported': 'MessageTypeNotSupported',
  'not-implemented': 'NotImplemented',
  'not-supported': 'NotSupported',
  'occurrence-constraint-violation': 'OccurrenceConstraintViolation',
  'property-constraint-violation': 'PropertyConstraintViolation',
  'protocol-error': 'ProtocolError',
  'rpc-framework-error': 'RpcFrameworkError',
  'security-error': 'SecurityError',
  'type-constraint-violation': 'TypeConstraintViolation',
};

const CODES: Readonly<Record<OcppVersion, Readonly<Record<ErrorKind, OcppErrorCode>>>> = {
  '1.6': CODES_16,
  '2.0.1': CODES_2X,
  '2.1': CODES_2X,
};

/** Every spelling either version uses, mapped back to its kind. Built from the tables so they cannot drift. */
const KIND_BY_CODE: ReadonlyMap<string, ErrorKind> = buildKindByCode();

function buildKindByCode(): Map<string, ErrorKind> {
  const map = new Map<string, ErrorKind>();
  // 2.x first, then 1.6 only for spellings not yet present: 1.6 maps two kinds onto NotSupported and
  // GenericError as fallbacks, and reading those codes must give the plain kinds back.
  for (const [kind, code] of entries(CODES_2X)) map.set(code, kind);
  for (const [kind, code] of entries(CODES_16)) if (!map.has(code)) map.set(code, kind);
  return map;
}

function entries<V>(table: Readonly<Record<ErrorKind, V>>): [ErrorKind, V][] {
  return ERROR_KINDS.map((kind) => [kind, table[kind]]);
}

const VERSION_BY_SUBPROTOCOL: ReadonlyMap<string, OcppVersion> = new Map<string, OcppVersion>([
  ['ocpp1.6', '1.6'],
  // "ocpp2.0" was the token before 2.0.1 fixed it; chargers still offer it, and it speaks 2.0.1 framing.
  ['ocpp2.0', '2.0.1'],
  ['ocpp2.0.1', '2.0.1'],
  ['ocpp2.1', '2.1'],
]);

/**
 * The OCPP version a negotiated WebSocket sub-protocol means, or `undefined` for none / an unknown one.
 * Exact match: RFC 6455 §4.1 compares sub-protocol tokens as given.
 */
export function versionOfSubprotocol(protocol: string | undefined): OcppVersion | undefined {
  return protocol === undefined ? undefined : VERSION_BY_SUBPROTOCOL.get(protocol);
}

/** The code to write on a link of `version` for `kind`, spelt the way that version spells it. */
export function errorCodeFor(version: OcppVersion, kind: ErrorKind): OcppErrorCode {
  return CODES[version][kind];
}

/**
 * The kind of an error code read from either version (both spellings accepted), or `undefined` for a code no
 * version defines. Reading 1.6's fallbacks gives the plain kinds: NotSupported → 'not-supported', GenericError
 * → 'generic-error'. Exact, case-sensitive match.
 */
export function normaliseErrorCode(code: string): ErrorKind | undefined {
  return KIND_BY_CODE.get(code);
}

/** True when `code` is one `version` defines (so a peer on that version is bound to understand it). */
export function isErrorCodeOf(version: OcppVersion, code: string): boolean {
  const kind = normaliseErrorCode(code);
  return kind !== undefined && CODES[version][kind] === code;
}
