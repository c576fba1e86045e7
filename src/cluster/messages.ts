/**
 * IPC between the cluster primary and its workers. Every message carries the
 * `ocppSplitter` field so it can never be mistaken for node:cluster's own.
 */
export type WorkerToPrimary =
  /** May this worker serve `identity`? Answered with `granted` once any other worker has let it go. */
  | { readonly ocppSplitter: 'claim'; readonly requestId: number; readonly identity: string }
  /** This worker no longer serves `identity`. */
  | { readonly ocppSplitter: 'ended'; readonly identity: string }
  /** The session asked for by `release` is closed and its durable state written. */
  | { readonly ocppSplitter: 'released'; readonly requestId: number };

export type PrimaryToWorker =
  | { readonly ocppSplitter: 'granted'; readonly requestId: number }
  | { readonly ocppSplitter: 'release'; readonly requestId: number; readonly identity: string }
  | { readonly ocppSplitter: 'shutdown' };

export function isWorkerMessage(value: unknown): value is WorkerToPrimary {
  if (typeof value !== 'object' || value === null || !('ocppSplitter' in value)) return false;
  const kind = value.ocppSplitter;
  if (kind === 'ended') return 'identity' in value && typeof value.identity === 'string';
  if (kind === 'released') return 'requestId' in value && typeof value.requestId === 'number';
  return kind === 'claim' && 'requestId' in value && typeof value.requestId === 'number' && 'identity' in value && typeof value.identity === 'string';
}

export function isPrimaryMessage(value: unknown): value is PrimaryToWorker {
  if (typeof value !== 'object' || value === null || !('ocppSplitter' in value)) return false;
  const kind = value.ocppSplitter;
  if (kind === 'shutdown') return true;
  if (kind === 'granted') return 'requestId' in value && typeof value.requestId === 'number';
  return kind === 'release' && 'requestId' in value && typeof value.requestId === 'number' && 'identity' in value && typeof value.identity === 'string';
}
