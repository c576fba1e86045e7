/**
 * IPC between the cluster primary and its workers. Every message carries the
 * `ocppSplitter` field so it can never be mistaken for node:cluster's own.
 *
 * Both sides check every message at runtime (`isWorkerMessage`, `isPrimaryMessage`): a shape they do not know
 * is ignored, never trusted. The admin messages carry the cluster primary's admin listener (see
 * admin/cluster-backend.ts for the primary's side, admin/cluster-worker.ts for a worker's).
 */
import type { StreamEvent, StreamFilter } from '../admin/event-stream.js';

/** What the primary's admin listener asks every worker; each is answered with one `admin-response`. */
export type AdminRequest =
  | { readonly op: 'status' }
  | { readonly op: 'chargers' }
  | { readonly op: 'charger'; readonly id: string }
  | { readonly op: 'secondaries' }
  | { readonly op: 'disconnect'; readonly id: string }
  | { readonly op: 'setPaused'; readonly name: string; readonly paused: boolean }
  | { readonly op: 'metrics' };

export type WorkerToPrimary =
  /** May this worker serve `identity`? Answered with `granted` once any other worker has let it go. */
  | { readonly ocppSplitter: 'claim'; readonly requestId: number; readonly identity: string }
  /** This worker no longer serves `identity`. */
  | { readonly ocppSplitter: 'ended'; readonly identity: string }
  /** The session asked for by `release` is closed and its durable state written. */
  | { readonly ocppSplitter: 'released'; readonly requestId: number }
  /** This worker answers admin requests from now on; the primary replies with the paused secondaries and open subscriptions. */
  | { readonly ocppSplitter: 'admin-ready' }
  /** The answer to `admin-request` `requestId`: its `result` (JSON; null for "none"), or why there is none. */
  | { readonly ocppSplitter: 'admin-response'; readonly requestId: number; readonly result?: unknown; readonly error?: string }
  /** One live event for the primary's subscription `subscriptionId`, already filtered and rendered by the worker. */
  | { readonly ocppSplitter: 'admin-event'; readonly subscriptionId: number; readonly event: StreamEvent };

export type PrimaryToWorker =
  | { readonly ocppSplitter: 'granted'; readonly requestId: number }
  | { readonly ocppSplitter: 'release'; readonly requestId: number; readonly identity: string }
  | { readonly ocppSplitter: 'shutdown' }
  | { readonly ocppSplitter: 'admin-request'; readonly requestId: number; readonly request: AdminRequest }
  /** Pause these secondaries (the operator's choice, kept by the primary): sent to a worker when it announces `admin-ready`. */
  | { readonly ocppSplitter: 'admin-paused'; readonly names: readonly string[] }
  | { readonly ocppSplitter: 'admin-subscribe'; readonly subscriptionId: number; readonly filter: StreamFilter }
  | { readonly ocppSplitter: 'admin-unsubscribe'; readonly subscriptionId: number };

/** The messages of a worker that the primary's admin backend handles. */
export type AdminWorkerMessage = Extract<WorkerToPrimary, { readonly ocppSplitter: `admin-${string}` }>;
/** The messages of the primary that a worker's admin side handles. */
export type AdminPrimaryMessage = Extract<PrimaryToWorker, { readonly ocppSplitter: `admin-${string}` }>;

const STREAM_EVENT_NAMES: ReadonlySet<unknown> = new Set<StreamEvent['event']>(['frame', 'session', 'link']);

export function isWorkerMessage(value: unknown): value is WorkerToPrimary {
  if (!isObject(value) || !('ocppSplitter' in value)) return false;
  switch (value.ocppSplitter) {
    case 'claim':
      return hasNumber(value, 'requestId') && hasString(value, 'identity');
    case 'ended':
      return hasString(value, 'identity');
    case 'released':
      return hasNumber(value, 'requestId');
    case 'admin-ready':
      return true;
    case 'admin-response':
      return hasNumber(value, 'requestId') && (!('error' in value) || typeof value.error === 'string');
    case 'admin-event':
      return hasNumber(value, 'subscriptionId') && 'event' in value && isStreamEvent(value.event);
    default:
      return false;
  }
}

export function isPrimaryMessage(value: unknown): value is PrimaryToWorker {
  if (!isObject(value) || !('ocppSplitter' in value)) return false;
  switch (value.ocppSplitter) {
    case 'shutdown':
      return true;
    case 'granted':
      return hasNumber(value, 'requestId');
    case 'release':
      return hasNumber(value, 'requestId') && hasString(value, 'identity');
    case 'admin-request':
      return hasNumber(value, 'requestId') && 'request' in value && isAdminRequest(value.request);
    case 'admin-paused':
      return 'names' in value && Array.isArray(value.names) && value.names.every((name) => typeof name === 'string');
    case 'admin-subscribe':
      return hasNumber(value, 'subscriptionId') && 'filter' in value && isStreamFilter(value.filter);
    case 'admin-unsubscribe':
      return hasNumber(value, 'subscriptionId');
    default:
      return false;
  }
}

export function isAdminWorkerMessage(message: WorkerToPrimary): message is AdminWorkerMessage {
  return message.ocppSplitter.startsWith('admin-');
}

export function isAdminPrimaryMessage(message: PrimaryToWorker): message is AdminPrimaryMessage {
  return message.ocppSplitter.startsWith('admin-');
}

function isAdminRequest(value: unknown): value is AdminRequest {
  if (!isObject(value) || !('op' in value)) return false;
  switch (value.op) {
    case 'status':
    case 'chargers':
    case 'secondaries':
    case 'metrics':
      return true;
    case 'charger':
    case 'disconnect':
      return hasString(value, 'id');
    case 'setPaused':
      return hasString(value, 'name') && 'paused' in value && typeof value.paused === 'boolean';
    default:
      return false;
  }
}

function isStreamFilter(value: unknown): value is StreamFilter {
  if (!isObject(value)) return false;
  const optionalString = (key: string): boolean => !(key in value) || value[key] === undefined || typeof value[key] === 'string';
  return optionalString('charger') && optionalString('leg');
}

function isStreamEvent(value: unknown): value is StreamEvent {
  return isObject(value) && 'event' in value && STREAM_EVENT_NAMES.has(value.event) && 'data' in value && isObject(value.data);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function hasNumber(value: Record<string, unknown>, key: string): boolean {
  return typeof value[key] === 'number';
}

function hasString(value: Record<string, unknown>, key: string): boolean {
  return typeof value[key] === 'string';
}
