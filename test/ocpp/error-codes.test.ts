import { describe, expect, it } from 'vitest';
import {
  ERROR_KINDS,
  errorCodeFor,
  isErrorCodeOf,
  normaliseErrorCode,
  versionOfSubprotocol,
} from '../../src/ocpp/error-codes.js';
import type { OcppVersion } from '../../src/ocpp/error-codes.js';

const VERSIONS: readonly OcppVersion[] = ['1.6', '2.0.1', '2.1'];

/** OCPP-J 1.6 §4.2.3, verbatim. */
const SPEC_CODES_16 = [
  'NotImplemented',
  'NotSupported',
  'InternalError',
  'ProtocolError',
  'SecurityError',
  'FormationViolation',
  'PropertyConstraintViolation',
  'OccurenceConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
];

/** OCPP 2.0.1 Part 4 §4.3, verbatim. */
const SPEC_CODES_2X = [
  'FormatViolation',
  'GenericError',
  'InternalError',
  'MessageTypeNotSupported',
  'NotImplemented',
  'NotSupported',
  'OccurrenceConstraintViolation',
  'PropertyConstraintViolation',
  'ProtocolError',
  'RpcFrameworkError',
  'SecurityError',
  'TypeConstraintViolation',
];

describe('versionOfSubprotocol', () => {
  it.each([
    ['ocpp1.6', '1.6'],
    ['ocpp2.0', '2.0.1'],
    ['ocpp2.0.1', '2.0.1'],
    ['ocpp2.1', '2.1'],
  ] as const)('%s → %s', (protocol, version) => {
    expect(versionOfSubprotocol(protocol)).toBe(version);
  });

  it.each([undefined, '', 'ocpp1.5', 'ocpp2', 'OCPP1.6', ' ocpp1.6', 'ocpp1.6 ', 'ocpp2.0.1,ocpp1.6'])(
    'knows nothing of %j',
    (protocol) => {
      expect(versionOfSubprotocol(protocol)).toBeUndefined();
    },
  );
});

describe('errorCodeFor', () => {
  it('spells the two differing codes the 1.6 way on 1.6 (typo included)', () => {
    expect(errorCodeFor('1.6', 'format-violation')).toBe('FormationViolation');
    expect(errorCodeFor('1.6', 'occurrence-constraint-violation')).toBe('OccurenceConstraintViolation');
  });

  it('spells them the 2.x way on 2.0.1 and 2.1', () => {
    for (const version of ['2.0.1', '2.1'] as const) {
      expect(errorCodeFor(version, 'format-violation')).toBe('FormatViolation');
      expect(errorCodeFor(version, 'occurrence-constraint-violation')).toBe('OccurrenceConstraintViolation');
      expect(errorCodeFor(version, 'message-type-not-supported')).toBe('MessageTypeNotSupported');
      expect(errorCodeFor(version, 'rpc-framework-error')).toBe('RpcFrameworkError');
    }
  });

  it('falls back to codes 1.6 has for the kinds only 2.x defines', () => {
    expect(errorCodeFor('1.6', 'message-type-not-supported')).toBe('NotSupported');
    expect(errorCodeFor('1.6', 'rpc-framework-error')).toBe('GenericError');
  });

  it('maps the shared codes identically in every version', () => {
    for (const version of VERSIONS) {
      expect(errorCodeFor(version, 'generic-error')).toBe('GenericError');
      expect(errorCodeFor(version, 'internal-error')).toBe('InternalError');
      expect(errorCodeFor(version, 'not-implemented')).toBe('NotImplemented');
      expect(errorCodeFor(version, 'not-supported')).toBe('NotSupported');
      expect(errorCodeFor(version, 'property-constraint-violation')).toBe('PropertyConstraintViolation');
      expect(errorCodeFor(version, 'protocol-error')).toBe('ProtocolError');
      expect(errorCodeFor(version, 'security-error')).toBe('SecurityError');
      expect(errorCodeFor(version, 'type-constraint-violation')).toBe('TypeConstraintViolation');
    }
  });

  it('only ever writes codes the version defines', () => {
    for (const kind of ERROR_KINDS) {
      expect(SPEC_CODES_16).toContain(errorCodeFor('1.6', kind));
      expect(SPEC_CODES_2X).toContain(errorCodeFor('2.0.1', kind));
      expect(SPEC_CODES_2X).toContain(errorCodeFor('2.1', kind));
    }
  });

  it('covers every code of every version', () => {
    expect(new Set(ERROR_KINDS.map((kind) => errorCodeFor('1.6', kind)))).toEqual(new Set(SPEC_CODES_16));
    expect(new Set(ERROR_KINDS.map((kind) => errorCodeFor('2.0.1', kind)))).toEqual(new Set(SPEC_CODES_2X));
  });
});

describe('normaliseErrorCode', () => {
  it('accepts both spellings of the differing codes', () => {
    expect(normaliseErrorCode('FormationViolation')).toBe('format-violation');
    expect(normaliseErrorCode('FormatViolation')).toBe('format-violation');
    expect(normaliseErrorCode('OccurenceConstraintViolation')).toBe('occurrence-constraint-violation');
    expect(normaliseErrorCode('OccurrenceConstraintViolation')).toBe('occurrence-constraint-violation');
  });

  it('reads the 1.6 fallback codes as their plain kinds', () => {
    expect(normaliseErrorCode('NotSupported')).toBe('not-supported');
    expect(normaliseErrorCode('GenericError')).toBe('generic-error');
  });

  it('inverts errorCodeFor for every kind that has its own code', () => {
    for (const version of VERSIONS) {
      for (const kind of ERROR_KINDS) {
        const isFallback =
          version === '1.6' && (kind === 'message-type-not-supported' || kind === 'rpc-framework-error');
        if (!isFallback) expect(normaliseErrorCode(errorCodeFor(version, kind))).toBe(kind);
      }
    }
  });

  it('knows every spec code and nothing else (exact, case-sensitive)', () => {
    for (const code of [...SPEC_CODES_16, ...SPEC_CODES_2X]) expect(normaliseErrorCode(code)).toBeDefined();
    for (const code of ['', 'formatviolation', 'FORMATVIOLATION', 'Format Violation', 'CustomError', 'toString', '__proto__']) {
      expect(normaliseErrorCode(code)).toBeUndefined();
    }
  });
});

describe('isErrorCodeOf', () => {
  it('tells whether a version defines a code as spelt', () => {
    expect(isErrorCodeOf('1.6', 'FormationViolation')).toBe(true);
    expect(isErrorCodeOf('1.6', 'FormatViolation')).toBe(false);
    expect(isErrorCodeOf('1.6', 'MessageTypeNotSupported')).toBe(false);
    expect(isErrorCodeOf('1.6', 'RpcFrameworkError')).toBe(false);
    expect(isErrorCodeOf('2.0.1', 'FormatViolation')).toBe(true);
    expect(isErrorCodeOf('2.0.1', 'OccurenceConstraintViolation')).toBe(false);
    expect(isErrorCodeOf('2.1', 'RpcFrameworkError')).toBe(true);
    expect(isErrorCodeOf('2.1', 'Whatever')).toBe(false);
    for (const code of SPEC_CODES_16) expect(isErrorCodeOf('1.6', code)).toBe(true);
    for (const code of SPEC_CODES_2X) expect(isErrorCodeOf('2.0.1', code)).toBe(true);
  });
});
