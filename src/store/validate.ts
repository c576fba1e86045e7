/**
 * Argument checks shared by every {@link MirrorStore} implementation, so that all of them refuse
 * the same calls with the same RangeError (the contract tests hold them to it). A value that
 * reached SQL as a fraction or NaN would be stored silently wrong; here the caller hears of it.
 */
import type { NewOutboxRecord, OutboxKind, OutboxLimits, OutboxPriority, RemoteStartTag } from './store.js';

export function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

export function checkLimits(limits: OutboxLimits): void {
  checkInteger('limits.maxMessages', limits.maxMessages, 1);
  checkInteger('limits.maxBytes', limits.maxBytes, 1);
}

const PRIORITIES: ReadonlySet<string> = new Set<OutboxPriority>(['transaction', 'droppable']);
const KINDS: ReadonlySet<string> = new Set<OutboxKind>(['call', 'send']);

/** A record stored with an unknown priority or kind would make every later read of its stream fail. */
export function checkRecord(record: NewOutboxRecord): void {
  checkInteger('record.enqueuedAt', record.enqueuedAt, 0);
  if (!PRIORITIES.has(record.priority)) throw new RangeError(`record.priority must be 'transaction' or 'droppable', got '${String(record.priority)}'`);
  if (!KINDS.has(record.kind)) throw new RangeError(`record.kind must be 'call' or 'send', got '${String(record.kind)}'`);
}

export function checkReadWindow(afterSeq: number, limit: number, maxBytes: number): void {
  checkInteger('afterSeq', afterSeq, 0);
  checkInteger('limit', limit, 1);
  checkInteger('maxBytes', maxBytes, 0);
}

export function checkTtl(ttlMs: number): void {
  checkInteger('ttlMs', ttlMs, 1);
}

export function checkRemoteStartTag(tag: RemoteStartTag): void {
  if (tag.version === '2.x') checkInteger('remoteStartId', tag.remoteStartId, Number.MIN_SAFE_INTEGER);
}

/** A copy holding only the tag's own fields, so that later changes to the caller's object do not reach the store. */
export function copyRemoteStartTag(tag: RemoteStartTag): RemoteStartTag {
  return tag.version === '1.6'
    ? { version: '1.6', idTag: tag.idTag }
    : { version: '2.x', idToken: structuredClone(tag.idToken), remoteStartId: tag.remoteStartId };
}
