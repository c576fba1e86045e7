/**
 * What happens to a CALL a secondary CSMS sends toward the charger. The primary stays in full control of the
 * charger: a secondary may read it (TriggerMessage, GetConfiguration / GetVariables) and may "remote start" a
 * transaction on its own books, which the proxy answers itself. Everything else — in particular every command
 * that changes the charger's connectivity or credentials (SetNetworkProfile, ChangeConfiguration,
 * SetVariables, InstallCertificate, CertificateSigned, Reset, …; OCPP 1.6 Security Whitepaper, 2.0.1 Part 2
 * A00) — is refused with NotSupported, which OCPP-J allows as the answer to any CALL (1.6 §4.2.3, 2.0.1
 * Part 4 §4.3). An allow-list, not a deny-list: commands added by later versions are refused until reviewed.
 */

import { isPlainObject } from '../ocpp/frame.js';
import type { CallFrame } from '../ocpp/frame.js';
import { errorCodeFor } from '../ocpp/error-codes.js';
import type { ErrorKind, OcppVersion } from '../ocpp/error-codes.js';
import { fitsIdTagLength, fitsLength, idTagMaxLength } from './transactions.js';

export type SecondaryCallDecision =
  | { readonly kind: 'forward-to-charger' }
  | {
      readonly kind: 'accept-remote-start';
      /**
       * What the store keeps until the next transaction start: on 1.6 the idTag itself; on 2.x
       * `JSON.stringify({ idToken, remoteStartId })` with the secondary's idToken object as it sent it.
       * rewrite.ts reads it back (`parsePendingIdToken`).
       */
      readonly pendingIdTag: string;
      /** The CALLRESULT payload to answer the secondary with. */
      readonly response: Record<string, unknown>;
    }
  | { readonly kind: 'reject'; readonly errorCode: string; readonly description: string };

/** The description of the NotSupported answer; fixed text, so it never echoes what the secondary sent. */
export const SECONDARY_NOT_SUPPORTED_DESCRIPTION =
  'This connection only lets a secondary CSMS read the charger (TriggerMessage, GetConfiguration/GetVariables) ' +
  'and remote-start transactions on its own books; other commands are reserved to the primary CSMS';

/** The read-only requests a secondary may pass to the charger, per version (see "Command pairs across versions"). */
const FORWARDED_ACTIONS: Readonly<Record<OcppVersion, ReadonlySet<string>>> = {
  '1.6': new Set(['TriggerMessage', 'GetConfiguration']),
  '2.0.1': new Set(['TriggerMessage', 'GetVariables']),
  '2.1': new Set(['TriggerMessage', 'GetVariables']),
};

const REMOTE_START_ACTION: Readonly<Record<OcppVersion, string>> = {
  '1.6': 'RemoteStartTransaction',
  '2.0.1': 'RequestStartTransaction',
  '2.1': 'RequestStartTransaction',
};

/**
 * The messages a secondary may make the charger send. Left out on purpose:
 * - 2.x SignChargingStationCertificate / SignV2GCertificate / SignV2G20Certificate / SignCombinedCertificate:
 *   the charger generates a new key pair and sends a CSR to the primary, which then installs a new certificate
 *   (2.0.1 A02/A03) — a credential change a secondary must not start.
 * - 2.1 CustomTrigger: vendor-defined, so its effect cannot be known to be read-only.
 * Anything not listed, including values a later version adds, is refused.
 */
const TRIGGERABLE_2X: ReadonlySet<string> = new Set([
  'BootNotification',
  'LogStatusNotification',
  'FirmwareStatusNotification',
  'Heartbeat',
  'MeterValues',
  'StatusNotification',
  'TransactionEvent',
  'PublishFirmwareStatusNotification',
]);

const TRIGGERABLE_MESSAGES: Readonly<Record<OcppVersion, ReadonlySet<string>>> = {
  // 1.6 §7 MessageTrigger: every value is a status report.
  '1.6': new Set([
    'BootNotification',
    'DiagnosticsStatusNotification',
    'FirmwareStatusNotification',
    'Heartbeat',
    'MeterValues',
    'StatusNotification',
  ]),
  '2.0.1': TRIGGERABLE_2X,
  // 2.1 adds only values left out above (CustomTrigger); the read-only ones are those of 2.0.1.
  '2.1': TRIGGERABLE_2X,
};

/** OCPP 2.0.1 IdTokenEnumType. 2.1 replaced the enum with a free string of at most 20 characters. */
const ID_TOKEN_TYPES_201: ReadonlySet<string> = new Set([
  'Central',
  'eMAID',
  'ISO14443',
  'ISO15693',
  'KeyCode',
  'Local',
  'MacAddress',
  'NoAuthorization',
]);
/** 2.1 IdTokenType.type: a free string(20) in place of 2.0.1's enum. */
const ID_TOKEN_TYPE_MAX_LENGTH_21 = 20;
/** AdditionalInfoType.type is string(50) in both versions; additionalIdToken has idToken's own limit. */
const ADDITIONAL_INFO_TYPE_MAX_LENGTH = 50;
const CUSTOM_DATA_VENDOR_ID_MAX_LENGTH = 255;

/** A schema violation found in a remote-start payload, as a version-neutral kind plus a fixed-text reason. */
interface Violation {
  readonly kind: ErrorKind;
  readonly description: string;
}

/**
 * Decides a CALL from a secondary on a link of `version`: pass it to the charger (the answer goes back to that
 * secondary), answer a remote start locally, or refuse it with a CALLERROR spelt the link's way.
 */
export function decideSecondaryCall(version: OcppVersion, call: CallFrame): SecondaryCallDecision {
  if (FORWARDED_ACTIONS[version].has(call.action)) {
    if (call.action === 'TriggerMessage' && !isTriggerAllowed(version, call.payload)) return notSupported(version);
    return { kind: 'forward-to-charger' };
  }
  if (call.action === REMOTE_START_ACTION[version]) {
    return version === '1.6' ? acceptRemoteStart16(call.payload) : acceptRequestStart2x(version, call.payload);
  }
  return notSupported(version);
}

function notSupported(version: OcppVersion): SecondaryCallDecision {
  return {
    kind: 'reject',
    errorCode: errorCodeFor(version, 'not-supported'),
    description: SECONDARY_NOT_SUPPORTED_DESCRIPTION,
  };
}

function reject(version: OcppVersion, violation: Violation): SecondaryCallDecision {
  return { kind: 'reject', errorCode: errorCodeFor(version, violation.kind), description: violation.description };
}

function isTriggerAllowed(version: OcppVersion, payload: Record<string, unknown>): boolean {
  const requested = payload.requestedMessage;
  // A malformed requestedMessage triggers nothing: let the charger give its own validation answer, as it would
  // without the proxy in between.
  if (typeof requested !== 'string') return true;
  return TRIGGERABLE_MESSAGES[version].has(requested);
}

/**
 * OCPP 1.6 §5.11 RemoteStartTransaction. The proxy answers in the charger's place, so it must refuse what the
 * charger would refuse (1.6 §4.2.3 codes): a missing idTag is an occurrence violation, a non-string a type
 * violation, more than 20 characters (CiString20Type) a property violation, and a field outside the PDU a
 * formation violation; connectorId "SHALL be > 0". The chargingProfile is never applied, so only its being an
 * object is checked.
 */
function acceptRemoteStart16(payload: Record<string, unknown>): SecondaryCallDecision {
  const { idTag } = payload;
  const violation =
    checkKnownFields(payload, REMOTE_START_16_FIELDS, 'RemoteStartTransaction') ??
    checkIdTagString('1.6', idTag, 'RemoteStartTransaction.idTag') ??
    checkPositiveInteger(payload.connectorId, 'RemoteStartTransaction.connectorId') ??
    checkOptionalObject(payload.chargingProfile, 'RemoteStartTransaction.chargingProfile');
  if (violation !== undefined) return reject('1.6', violation);
  // Already checked above; repeated as a type guard so no cast is needed.
  if (typeof idTag !== 'string') return reject('1.6', wrongType('RemoteStartTransaction.idTag', 'a string'));
  return { kind: 'accept-remote-start', pendingIdTag: idTag, response: { status: 'Accepted' } };
}

const REMOTE_START_16_FIELDS: ReadonlySet<string> = new Set(['connectorId', 'idTag', 'chargingProfile']);

/**
 * OCPP 2.0.1 / 2.1 F01/F02 RequestStartTransaction, checked against the shipped schemas (2.0.1 Part 4 §4.3
 * codes) for the same reason as on 1.6. The idToken object is kept whole: a charger puts the idToken it was
 * given, and the remoteStartId, into the TransactionEvent it starts (2.0.1 F01/F02), type and additionalInfo
 * included.
 */
function acceptRequestStart2x(version: OcppVersion, payload: Record<string, unknown>): SecondaryCallDecision {
  const violation = checkRequestStart2x(version, payload);
  if (violation !== undefined) return reject(version, violation);
  let pendingIdTag: string;
  try {
    pendingIdTag = JSON.stringify({ idToken: payload.idToken, remoteStartId: payload.remoteStartId });
  } catch {
    // Only a value nested deeper than a JSON round trip survives (customData) gets here: a format violation,
    // answered as one — never an exception in the secondary's frame handler.
    return reject(version, { kind: 'format-violation', description: 'RequestStartTransaction.idToken is nested too deeply' });
  }
  return { kind: 'accept-remote-start', pendingIdTag, response: { status: 'Accepted' } };
}

const REQUEST_START_2X_FIELDS: ReadonlySet<string> = new Set([
  'customData',
  'evseId',
  'groupIdToken',
  'idToken',
  'remoteStartId',
  'chargingProfile',
]);

function checkRequestStart2x(version: OcppVersion, payload: Record<string, unknown>): Violation | undefined {
  return (
    checkKnownFields(payload, REQUEST_START_2X_FIELDS, 'RequestStartTransaction') ??
    checkIdToken(version, payload.idToken, 'RequestStartTransaction.idToken', true) ??
    checkRequiredInteger(payload.remoteStartId, 'RequestStartTransaction.remoteStartId') ??
    // "EvseId SHALL be > 0" (2.0.1 RequestStartTransactionRequest; 2.1 makes it schema minimum 1).
    checkPositiveInteger(payload.evseId, 'RequestStartTransaction.evseId') ??
    checkIdToken(version, payload.groupIdToken, 'RequestStartTransaction.groupIdToken', false) ??
    checkOptionalObject(payload.chargingProfile, 'RequestStartTransaction.chargingProfile') ??
    checkCustomData(payload.customData, 'RequestStartTransaction.customData')
  );
}

/**
 * True when `value` is a valid IdTokenType for `version` — used again when a stored remote-start idToken is put
 * into a TransactionEvent, since the charger may have come back on another OCPP version since it was stored.
 */
export function isValidIdToken(version: OcppVersion, value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && checkIdToken(version, value, 'idToken', true) === undefined;
}

const ID_TOKEN_FIELDS: ReadonlySet<string> = new Set(['customData', 'additionalInfo', 'idToken', 'type']);
const ADDITIONAL_INFO_FIELDS: ReadonlySet<string> = new Set(['customData', 'additionalIdToken', 'type']);

/** IdTokenType (2.0.1 Part 2 §2 datatypes; 2.1 widened idToken to 255 and made type a free string(20)). */
function checkIdToken(version: OcppVersion, value: unknown, path: string, required: boolean): Violation | undefined {
  if (value === undefined) return required ? missing(path) : undefined;
  if (!isPlainObject(value)) return wrongType(path, 'an object');
  return (
    checkKnownFields(value, ID_TOKEN_FIELDS, path) ??
    checkIdTagString(version, value.idToken, `${path}.idToken`) ??
    checkIdTokenType(version, value.type, `${path}.type`) ??
    checkAdditionalInfo(version, value.additionalInfo, `${path}.additionalInfo`) ??
    checkCustomData(value.customData, `${path}.customData`)
  );
}

function checkIdTokenType(version: OcppVersion, value: unknown, path: string): Violation | undefined {
  if (value === undefined) return missing(path);
  if (typeof value !== 'string') return wrongType(path, 'a string');
  if (version === '2.0.1') {
    return ID_TOKEN_TYPES_201.has(value) ? undefined : badValue(`${path} is not an IdTokenEnumType value`);
  }
  return fitsLength(value, ID_TOKEN_TYPE_MAX_LENGTH_21) ? undefined : tooLong(path, ID_TOKEN_TYPE_MAX_LENGTH_21);
}

function checkAdditionalInfo(version: OcppVersion, value: unknown, path: string): Violation | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return wrongType(path, 'an array');
  const items: readonly unknown[] = value;
  // minItems 1 in both schemas.
  if (items.length === 0) return { kind: 'occurrence-constraint-violation', description: `${path} is empty` };
  for (const item of items) {
    const itemPath = `${path}[]`;
    if (!isPlainObject(item)) return wrongType(itemPath, 'an object');
    const violation =
      checkKnownFields(item, ADDITIONAL_INFO_FIELDS, itemPath) ??
      checkIdTagString(version, item.additionalIdToken, `${itemPath}.additionalIdToken`) ??
      checkBoundedString(item.type, `${itemPath}.type`, ADDITIONAL_INFO_TYPE_MAX_LENGTH) ??
      checkCustomData(item.customData, `${itemPath}.customData`);
    if (violation !== undefined) return violation;
  }
  return undefined;
}

/** CustomDataType: any object with a vendorId string(255); it is the one type that allows extra properties. */
function checkCustomData(value: unknown, path: string): Violation | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) return wrongType(path, 'an object');
  return checkBoundedString(value.vendorId, `${path}.vendorId`, CUSTOM_DATA_VENDOR_ID_MAX_LENGTH);
}

/** A required id tag / token string within the version's limit (1.6: 20, 2.0.1: 36, 2.1: 255). */
function checkIdTagString(version: OcppVersion, value: unknown, path: string): Violation | undefined {
  if (value === undefined) return missing(path);
  if (typeof value !== 'string') return wrongType(path, 'a string');
  return fitsIdTagLength(version, value) ? undefined : tooLong(path, idTagMaxLength(version));
}

function checkBoundedString(value: unknown, path: string, maxLength: number): Violation | undefined {
  if (value === undefined) return missing(path);
  if (typeof value !== 'string') return wrongType(path, 'a string');
  return fitsLength(value, maxLength) ? undefined : tooLong(path, maxLength);
}

function checkRequiredInteger(value: unknown, path: string): Violation | undefined {
  if (value === undefined) return missing(path);
  return isInteger(value) ? undefined : wrongType(path, 'an integer');
}

function checkPositiveInteger(value: unknown, path: string): Violation | undefined {
  if (value === undefined) return undefined;
  if (!isInteger(value)) return wrongType(path, 'an integer');
  return value > 0 ? undefined : badValue(`${path} is not greater than 0`);
}

function checkOptionalObject(value: unknown, path: string): Violation | undefined {
  if (value === undefined) return undefined;
  return isPlainObject(value) ? undefined : wrongType(path, 'an object');
}

/** Both PDUs are `additionalProperties: false`; a field the PDU does not define is a malformed message. */
function checkKnownFields(
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
  path: string,
): Violation | undefined {
  for (const key of Object.keys(value)) {
    // The key is not echoed: it is untrusted text of any length.
    if (!known.has(key)) {
      return { kind: 'format-violation', description: `${path} has a property its schema does not define` };
    }
  }
  return undefined;
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function missing(path: string): Violation {
  return { kind: 'occurrence-constraint-violation', description: `${path} is required` };
}

function wrongType(path: string, expected: string): Violation {
  return { kind: 'type-constraint-violation', description: `${path} is not ${expected}` };
}

function tooLong(path: string, max: number): Violation {
  return { kind: 'property-constraint-violation', description: `${path} is longer than ${max} characters` };
}

function badValue(description: string): Violation {
  return { kind: 'property-constraint-violation', description };
}
