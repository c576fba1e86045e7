/**
 * Per-secondary rewriting of a mirrored charger CALL. Each secondary keeps its own books, so three things in a
 * charger message may have to change on the way to it:
 * - the id tag, when charger_map gives this (charger, secondary) its own id_tag;
 * - the id tag of a transaction this secondary remote-started (the proxy answered the remote start itself, so
 *   the charger never saw that tag) — it wins over charger_map for that transaction;
 * - 1.6 only: the transactionId, which each CSMS assigns itself in StartTransaction.conf (1.6 §6), so the
 *   secondary must get back its own id, not the primary's. 2.x transaction ids come from the charger and need
 *   no translation.
 *
 * Returns `{ changed: false }` whenever nothing applies, so the caller forwards the original bytes; a rewrite
 * never produces a payload that breaks the version's schema (an id tag that would not fit is not written).
 */

import { isPlainObject } from '../ocpp/frame.js';
import type { CallFrame } from '../ocpp/frame.js';
import type { OcppVersion } from '../ocpp/error-codes.js';
import { isValidIdToken } from './secondary-calls.js';
import { fitsIdTagLength, REWRITE_RELEVANT_ACTIONS, transactionEventRole } from './transactions.js';

export interface RewriteContext {
  /** charger_map id_tag for this (charger, secondary): replaces every id tag the message already carries. */
  readonly idTagOverride?: string;
  /**
   * The remote-start tag bound to the transaction this message belongs to, exactly as stored
   * (`SecondaryCallDecision.pendingIdTag`: 1.6 the idTag, 2.x `{"idToken":{…},"remoteStartId":n}`).
   * Pass it only for messages of that transaction.
   */
  readonly remoteStartIdTag?: string;
  /** 1.6: the secondary's own transactionId for the transaction this message refers to (decimal string). */
  readonly secondaryTxId?: string;
}

export type RewriteResult =
  | { readonly changed: false }
  | { readonly changed: true; readonly payload: Record<string, unknown> };

const UNCHANGED: RewriteResult = { changed: false };

/** A 1.6 transactionId as JSON writes it: an optional minus sign and decimal digits. */
const DECIMAL_INTEGER = /^-?\d+$/;

/**
 * The payload to send to one secondary. Never mutates `call.payload`: changed objects are copied along the path
 * to the change, everything else is shared with the input.
 */
export function rewriteForSecondary(version: OcppVersion, call: CallFrame, ctx: RewriteContext): RewriteResult {
  if (ctx.idTagOverride === undefined && ctx.remoteStartIdTag === undefined && ctx.secondaryTxId === undefined) {
    return UNCHANGED;
  }
  if (!REWRITE_RELEVANT_ACTIONS.has(call.action)) return UNCHANGED;
  return version === '1.6' ? rewrite16(call, ctx) : rewrite2x(version, call, ctx);
}

// ---------------------------------------------------------------------------------------------------------------
// OCPP 1.6

function rewrite16(call: CallFrame, ctx: RewriteContext): RewriteResult {
  const { payload } = call;
  const idTag = idTagFor16(call.action, payload, ctx);
  const transactionId = transactionIdFor16(call.action, payload, ctx.secondaryTxId);
  const writeIdTag = idTag !== undefined && payload.idTag !== idTag;
  const writeTransactionId = transactionId !== undefined && payload.transactionId !== transactionId;
  if (!writeIdTag && !writeTransactionId) return UNCHANGED;
  // 1.6 ids sit at the top level, so a shallow copy is a full copy of everything that changes.
  const copy: Record<string, unknown> = { ...payload };
  if (writeIdTag) copy.idTag = idTag;
  if (writeTransactionId) copy.transactionId = transactionId;
  return { changed: true, payload: copy };
}

/**
 * The idTag the secondary must see, or `undefined` to leave the field as it is.
 * - Authorize: charger_map id_tag replaces the tag. A remote-start tag does not apply (no transaction yet).
 * - StartTransaction: remote-start tag, else charger_map id_tag (idTag is required in StartTransaction.req).
 * - StopTransaction: idTag is optional in StopTransaction.req. A bound remote-start tag is always written, also
 *   when the charger sent none: the secondary started that transaction with this tag, and a stop without one
 *   would look like a stop by someone else to a CSMS that compares them. A charger_map id_tag only replaces a
 *   present one.
 */
function idTagFor16(action: string, payload: Record<string, unknown>, ctx: RewriteContext): string | undefined {
  const remote = validIdTag16(ctx.remoteStartIdTag);
  const override = validIdTag16(ctx.idTagOverride);
  const present = typeof payload.idTag === 'string';
  switch (action) {
    case 'Authorize':
      return present ? override : undefined;
    case 'StartTransaction':
      return remote ?? override;
    case 'StopTransaction':
      return remote ?? (present ? override : undefined);
    default:
      return undefined;
  }
}

/** A tag longer than CiString20Type would make the message invalid (FormationViolation): it is not written. */
function validIdTag16(tag: string | undefined): string | undefined {
  return tag !== undefined && fitsIdTagLength('1.6', tag) ? tag : undefined;
}

/**
 * The secondary's transactionId for MeterValues (an optional field: left absent when absent) and
 * StopTransaction, as the integer the schema requires. A non-numeric id cannot be written without
 * breaking the schema, so the field is then left alone; ids from `primaryTransactionIdFromStartResult` are
 * always numeric.
 */
function transactionIdFor16(
  action: string,
  payload: Record<string, unknown>,
  secondaryTxId: string | undefined,
): number | undefined {
  if (secondaryTxId === undefined || payload.transactionId === undefined) return undefined;
  if (action !== 'MeterValues' && action !== 'StopTransaction') return undefined;
  if (!DECIMAL_INTEGER.test(secondaryTxId)) return undefined;
  const id = Number(secondaryTxId);
  return Number.isSafeInteger(id) ? id : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// OCPP 2.0.1 / 2.1

/** A remote start as stored by `decideSecondaryCall` on 2.x. */
export interface PendingIdToken {
  readonly idToken: Record<string, unknown>;
  readonly remoteStartId: number;
}

function rewrite2x(version: OcppVersion, call: CallFrame, ctx: RewriteContext): RewriteResult {
  const { payload } = call;
  const { idTagOverride } = ctx;
  const override = idTagOverride !== undefined && fitsIdTagLength(version, idTagOverride) ? idTagOverride : undefined;
  if (call.action === 'Authorize') {
    const idToken = overriddenIdToken(payload.idToken, override);
    return idToken === undefined ? UNCHANGED : { changed: true, payload: { ...payload, idToken } };
  }
  if (call.action !== 'TransactionEvent') return UNCHANGED;

  const role = transactionEventRole(payload);
  const remote = role === 'none' ? undefined : parsePendingIdToken(version, ctx.remoteStartIdTag);
  let idToken: Record<string, unknown> | undefined;
  let transactionInfo: Record<string, unknown> | undefined;
  if (remote !== undefined && (role === 'start' || role === 'stop' || isPlainObject(payload.idToken))) {
    // The secondary's own idToken, whole (type and additionalInfo included), as a charger that had received its
    // RequestStartTransaction would report it (2.0.1 F01/F02). Written into Started and Ended even when the
    // charger's event has none (e.g. cable plugged in before authorisation, or an Ended without idToken);
    // into an Updated event only where the charger's event carries an idToken, so the transaction never shows
    // the secondary a second identity.
    if (!sameJson(payload.idToken, remote.idToken)) idToken = remote.idToken;
    // transactionInfo.remoteStartId lets the CSMS match the transaction to its request (2.0.1 F01/F02); it
    // belongs on the first event. transactionInfo is required, so an event without it is left as it is.
    const info = payload.transactionInfo;
    if (role === 'start' && isPlainObject(info) && info.remoteStartId !== remote.remoteStartId) {
      transactionInfo = { ...info, remoteStartId: remote.remoteStartId };
    }
  } else {
    idToken = overriddenIdToken(payload.idToken, override);
  }
  if (idToken === undefined && transactionInfo === undefined) return UNCHANGED;
  const copy: Record<string, unknown> = { ...payload };
  if (idToken !== undefined) copy.idToken = idToken;
  if (transactionInfo !== undefined) copy.transactionInfo = transactionInfo;
  return { changed: true, payload: copy };
}

/** A copy of `idToken` with charger_map's id_tag in `idToken.idToken` (type kept), or `undefined` if none applies. */
function overriddenIdToken(idToken: unknown, override: string | undefined): Record<string, unknown> | undefined {
  if (override === undefined || !isPlainObject(idToken) || typeof idToken.idToken !== 'string') return undefined;
  if (idToken.idToken === override) return undefined;
  return { ...idToken, idToken: override };
}

/**
 * Reads a stored 2.x remote start back. Anything else — a 1.6 idTag stored before the charger came back on 2.x,
 * or an idToken not valid on this version — yields `undefined`, and the message then gets charger_map's rule:
 * writing it would make the secondary refuse the transaction message.
 */
export function parsePendingIdToken(version: OcppVersion, stored: string | undefined): PendingIdToken | undefined {
  if (stored === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    // Not swallowed: an unreadable value is a result (no pending idToken), handled like any other invalid one.
    return undefined;
  }
  if (!isPlainObject(value)) return undefined;
  const { idToken, remoteStartId } = value;
  if (typeof remoteStartId !== 'number' || !Number.isSafeInteger(remoteStartId)) return undefined;
  if (!isValidIdToken(version, idToken)) return undefined;
  return { idToken, remoteStartId };
}

/** Equality of JSON values built the same way (key order counts); a false "different" only costs a copy. */
function sameJson(a: unknown, b: unknown): boolean {
  return a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));
}
