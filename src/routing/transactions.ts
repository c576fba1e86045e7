/**
 * What a charger CALL means for the mirror, decided once per frame and shared by every secondary: how hard the
 * outbox must try to keep it, whether it starts, continues or ends a transaction, which transaction, and
 * whether it carries an id tag that a per-secondary rewrite may replace.
 *
 * Where ids and tokens live (OCPP 1.6 §6 and OCPP 2.0.1 Part 2 E/C):
 * - 1.6: `transactionId` is an integer the CSMS picks in StartTransaction.conf; MeterValues.req (optional) and
 *   StopTransaction.req carry it. `idTag` sits in Authorize, StartTransaction and (optionally) StopTransaction.
 * - 2.x: `transactionInfo.transactionId` is a string the charger picks, so it is the same for every CSMS;
 *   TransactionEvent's `eventType` says Started / Updated / Ended, and `idToken` is an object.
 */

import { isPlainObject } from '../ocpp/frame.js';
import type { CallFrame } from '../ocpp/frame.js';
import type { OcppVersion } from '../ocpp/error-codes.js';
import type { OutboxPriority } from '../store/store.js';

export type TransactionRole = 'start' | 'stop' | 'update' | 'none';

export interface ChargerCallInfo {
  /** 'transaction' for starts and stops, which a full outbox must keep; everything else may be dropped. */
  readonly priority: OutboxPriority;
  readonly role: TransactionRole;
  /**
   * 1.6: for stop / update, the primary's transactionId as a decimal string (null when the message has none,
   * e.g. MeterValues outside a transaction). 2.x: the charger's `transactionInfo.transactionId` for
   * start / update / stop. Null otherwise.
   */
  readonly txId: string | null;
  /**
   * True when the payload holds an id tag (1.6 `idTag` string, 2.x `idToken.idToken` string) that a charger_map
   * id_tag would replace. A 1.6 StopTransaction without `idTag` is false, although a bound remote-start tag is
   * still added to it (see rewrite.ts).
   */
  readonly carriesIdTag: boolean;
}

/**
 * The only actions whose payload the mirror ever needs to read (to classify or rewrite). Every other charger
 * CALL is forwarded to secondaries as the bytes that arrived, without a JSON.parse of the payload.
 * One set for all versions: StartTransaction never appears on 2.x and TransactionEvent never on 1.6.
 */
export const REWRITE_RELEVANT_ACTIONS: ReadonlySet<string> = new Set([
  'Authorize',
  'StartTransaction',
  'StopTransaction',
  'MeterValues',
  'TransactionEvent',
]);

/** Actions whose classification depends on the payload; Authorize only ever needs a send-time rewrite. */
const CLASSIFIED_ACTIONS: ReadonlySet<string> = new Set(['StartTransaction', 'StopTransaction', 'MeterValues', 'TransactionEvent']);

/**
 * Whether a charger CALL must be parsed to be classified, decided from its
 * action and raw text alone. Most traffic is not: Heartbeat, StatusNotification,
 * and MeterValues outside a transaction (no `transactionId` anywhere in the text —
 * a plain substring test, so a false positive only costs one parse).
 */
export function needsClassification(action: string, frameText: string): boolean {
  if (!CLASSIFIED_ACTIONS.has(action)) return false;
  return action !== 'MeterValues' || frameText.includes('"transactionId"');
}

const NOT_TRANSACTIONAL: ChargerCallInfo = { priority: 'droppable', role: 'none', txId: null, carriesIdTag: false };

/**
 * Maximum length of an id tag, per version, in characters: 1.6 IdToken is CiString20Type (§7); 2.0.1
 * IdTokenType.idToken is string(36); 2.1 widened it to string(255). A rewrite must never exceed these, or the
 * secondary would answer FormationViolation / FormatViolation.
 */
export function idTagMaxLength(version: OcppVersion): number {
  switch (version) {
    case '1.6':
      return 20;
    case '2.0.1':
      return 36;
    case '2.1':
      return 255;
  }
}

/** True when `idTag` fits `version`'s limit (see `fitsLength`). */
export function fitsIdTagLength(version: OcppVersion, idTag: string): boolean {
  return fitsLength(idTag, idTagMaxLength(version));
}

/**
 * True when `text` has at most `max` Unicode code points, which is how JSON Schema's maxLength (and so OCPP's
 * schemas) counts. The fast paths keep a megabyte-long hostile string from being split into code points.
 */
export function fitsLength(text: string, max: number): boolean {
  // Code points never outnumber UTF-16 units, and never fall below half of them.
  if (text.length <= max) return true;
  if (text.length > 2 * max) return false;
  return Array.from(text).length <= max;
}

export function classifyChargerCall(version: OcppVersion, call: CallFrame): ChargerCallInfo {
  return version === '1.6' ? classify16(call) : classify2x(call);
}

function classify16(call: CallFrame): ChargerCallInfo {
  const { payload } = call;
  switch (call.action) {
    case 'StartTransaction':
      // The primary's id is not known yet: it arrives in StartTransaction.conf (primaryTransactionIdFromStartResult).
      return { priority: 'transaction', role: 'start', txId: null, carriesIdTag: typeof payload.idTag === 'string' };
    case 'StopTransaction':
      return {
        priority: 'transaction',
        role: 'stop',
        txId: transactionId16(payload.transactionId),
        carriesIdTag: typeof payload.idTag === 'string',
      };
    case 'MeterValues': {
      // transactionId is optional in MeterValues.req (1.6 §6): meter values without one belong to no transaction.
      const txId = transactionId16(payload.transactionId);
      return { priority: 'droppable', role: txId === null ? 'none' : 'update', txId, carriesIdTag: false };
    }
    case 'Authorize':
      return { ...NOT_TRANSACTIONAL, carriesIdTag: typeof payload.idTag === 'string' };
    default:
      return NOT_TRANSACTIONAL;
  }
}

function classify2x(call: CallFrame): ChargerCallInfo {
  const { payload } = call;
  switch (call.action) {
    case 'TransactionEvent': {
      const role = transactionEventRole(payload);
      const info = payload.transactionInfo;
      const txId = isPlainObject(info) && typeof info.transactionId === 'string' ? info.transactionId : null;
      return {
        // 2.0.1 E: Started and Ended bracket the transaction on the CSMS's books; losing either leaves it open
        // or never opened. Updated events are periodic and can be lost without breaking the books.
        priority: role === 'start' || role === 'stop' ? 'transaction' : 'droppable',
        role,
        txId: role === 'none' ? null : txId,
        carriesIdTag: hasIdTokenString(payload.idToken),
      };
    }
    case 'Authorize':
      return { ...NOT_TRANSACTIONAL, carriesIdTag: hasIdTokenString(payload.idToken) };
    default:
      return NOT_TRANSACTIONAL;
  }
}

/** 2.x TransactionEvent.eventType → role; an unknown or missing eventType is no transaction message at all. */
export function transactionEventRole(payload: Record<string, unknown>): TransactionRole {
  switch (payload.eventType) {
    case 'Started':
      return 'start';
    case 'Updated':
      return 'update';
    case 'Ended':
      return 'stop';
    default:
      return 'none';
  }
}

function hasIdTokenString(idToken: unknown): boolean {
  return isPlainObject(idToken) && typeof idToken.idToken === 'string';
}

/** A 1.6 transactionId (a JSON integer) as the decimal string the store keys on; null otherwise. */
function transactionId16(value: unknown): string | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : null;
}

/** True for the CALL a secondary must see first after it (re)connects (OCPP-NOTES "Handshake"). */
export function isBootNotification(action: string): boolean {
  return action === 'BootNotification';
}

/**
 * The transactionId of a 1.6 StartTransaction.conf as a string, from the primary or from a secondary (the same
 * rule for both), or `undefined` when the answer has no integer transactionId — then no id mapping can be made.
 */
export function primaryTransactionIdFromStartResult(payload: Record<string, unknown>): string | undefined {
  return transactionId16(payload.transactionId) ?? undefined;
}
