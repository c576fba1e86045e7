/**
 * SQLite rows to typed records and back. Rows arrive as `unknown`; each helper narrows one
 * column and throws a TypeError (the store turns it into a StoreError naming the file) when the
 * file holds something this code did not write.
 */
import { isPlainObject } from '../ocpp/frame.js';
import type { DroppedRecord, OutboxKind, OutboxPriority, OutboxRecord, RemoteStartTag, TransactionLink } from './store.js';

function column(row: unknown, name: string): unknown {
  if (typeof row !== 'object' || row === null || !Object.hasOwn(row, name)) {
    throw new TypeError(`row has no column ${name}`);
  }
  const value: unknown = Reflect.get(row, name);
  return value;
}

export function text(row: unknown, name: string): string {
  const value = column(row, name);
  if (typeof value !== 'string') throw new TypeError(`column ${name} is ${typeof value}, expected text`);
  return value;
}

export function nullableText(row: unknown, name: string): string | null {
  const value = column(row, name);
  if (value !== null && typeof value !== 'string') throw new TypeError(`column ${name} is ${typeof value}, expected text or null`);
  return value;
}

export function integer(row: unknown, name: string): number {
  const value = column(row, name);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`column ${name} is ${String(value)}, expected an integer`);
  }
  return value;
}

export function nullableInteger(row: unknown, name: string): number | null {
  return column(row, name) === null ? null : integer(row, name);
}

function priority(row: unknown): OutboxPriority {
  const value = text(row, 'priority');
  if (value !== 'transaction' && value !== 'droppable') throw new TypeError(`column priority is '${value}'`);
  return value;
}

function kind(row: unknown): OutboxKind {
  const value = text(row, 'kind');
  if (value !== 'call' && value !== 'send') throw new TypeError(`column kind is '${value}'`);
  return value;
}

export function toOutboxRecord(row: unknown): OutboxRecord {
  return {
    seq: integer(row, 'seq'),
    frame: text(row, 'frame'),
    messageId: text(row, 'message_id'),
    action: text(row, 'action'),
    kind: kind(row),
    priority: priority(row),
    startRef: nullableText(row, 'start_ref'),
    txRef: nullableText(row, 'tx_ref'),
    enqueuedAt: integer(row, 'enqueued_at'),
    bytes: integer(row, 'bytes'),
  };
}

export function toDroppedRecord(row: unknown): DroppedRecord {
  return { seq: integer(row, 'seq'), action: text(row, 'action'), priority: priority(row), bytes: integer(row, 'bytes') };
}

export function toTransactionLink(row: unknown): TransactionLink {
  const remoteStart = nullableText(row, 'remote_start');
  return {
    startRef: text(row, 'start_ref'),
    primaryTxId: nullableText(row, 'primary_tx_id'),
    secondaryTxId: nullableText(row, 'secondary_tx_id'),
    remoteStart: remoteStart === null ? null : decodeRemoteStart(remoteStart),
    stoppedAt: nullableInteger(row, 'stopped_at'),
  };
}

/** JSON of the tag's own fields: `{"version":"1.6","idTag":…}` or `{"version":"2.x","idToken":{…},"remoteStartId":n}`. */
export function encodeRemoteStart(tag: RemoteStartTag): string {
  return JSON.stringify(
    tag.version === '1.6'
      ? { version: tag.version, idTag: tag.idTag }
      : { version: tag.version, idToken: tag.idToken, remoteStartId: tag.remoteStartId },
  );
}

export function decodeRemoteStart(json: string): RemoteStartTag {
  const value: unknown = JSON.parse(json);
  if (isPlainObject(value)) {
    const { version, idTag, idToken, remoteStartId } = value;
    if (version === '1.6' && typeof idTag === 'string') return { version, idTag };
    if (version === '2.x' && isPlainObject(idToken) && typeof remoteStartId === 'number' && Number.isSafeInteger(remoteStartId)) {
      return { version, idToken, remoteStartId };
    }
  }
  throw new TypeError('stored remote start is neither a 1.6 idTag nor a 2.x idToken');
}

/**
 * A schema-1 `id_tag` as a typed remote start. Version 1 kept a 1.6 idTag as is, and a 2.x
 * remote start as the JSON text `{"idToken":{…},"remoteStartId":n}` (too long to be a 1.6
 * idTag, a CiString20, so the two cannot be confused).
 */
export function remoteStartFromV1IdTag(idTag: string): RemoteStartTag {
  let value: unknown;
  try {
    value = JSON.parse(idTag);
  } catch {
    // Not JSON: a plain 1.6 idTag, the common case.
    return { version: '1.6', idTag };
  }
  if (isPlainObject(value)) {
    const { idToken, remoteStartId } = value;
    if (isPlainObject(idToken) && typeof remoteStartId === 'number' && Number.isSafeInteger(remoteStartId)) {
      return { version: '2.x', idToken, remoteStartId };
    }
  }
  return { version: '1.6', idTag };
}
