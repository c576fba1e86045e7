/**
 * A cluster worker's side of the admin listener: the worker opens no port of its own; it answers the cluster
 * primary's requests (cluster-backend.ts) from its LocalBackend, and streams the live events the primary
 * subscribed to. The primary merges every worker's answers into one view.
 */
import type { Registry } from 'prom-client';
import {
  isAdminPrimaryMessage,
  isPrimaryMessage,
  type AdminPrimaryMessage,
  type AdminRequest,
  type WorkerToPrimary,
} from '../cluster/messages.js';
import type { Logger } from '../logging/logger.js';
import type { AdminBackend } from './backend.js';
import { MAX_STREAMS, type StreamEvent } from './event-stream.js';

/** The worker's IPC channel to the primary (the process's own by default: see processChannel). */
export interface PrimaryChannel {
  /**
   * Sends one message; `done` is called once it was written (or could not be). False when the channel is
   * backed up: the message is queued, but more should wait.
   */
  send(message: WorkerToPrimary, done: (error: Error | null) => void): boolean;
  readonly connected: boolean;
  /** Calls `listener` with every message from the primary until the returned function is called. */
  onMessage(listener: (message: unknown) => void): () => void;
}

/** What a worker serves: a LocalBackend, whose metrics registry the primary aggregates. */
export type WorkerBackend = AdminBackend & { readonly registry: Pick<Registry, 'getMetricsAsJSON'> };

export interface ServeAdminOptions {
  readonly log: Logger;
  /** By default this process's IPC channel. */
  readonly channel?: PrimaryChannel;
}

export interface AdminWorkerLink {
  /** Live events not sent because the channel to the primary was backed up, since the start. */
  readonly droppedEvents: number;
  /** Ends the subscriptions, stops answering and closes the backend; idempotent. */
  close(): void;
}

/**
 * Live events written to the primary but not yet confirmed, above which further events are dropped: the
 * primary's SSE clients may read slower than chargers talk, and the IPC channel must not buffer without bound.
 */
export const MAX_EVENTS_IN_FLIGHT = 1024;
/** Subscriptions one worker keeps: the primary opens at most MAX_STREAMS; the margin covers unsubscriptions in flight. */
export const MAX_SUBSCRIPTIONS = 2 * MAX_STREAMS;

/**
 * Answers the cluster primary's admin requests from `backend`, from now until `close()`. Announces itself
 * (`admin-ready`) at once; the primary answers with the secondaries the operator paused. Call it in the same
 * tick as, and just before, `proxy.listen()`: the pause then arrives after listen() created the mirrors, and
 * before the listening socket (the primary's answer to the announcement precedes its answer to node:cluster's
 * listen request on the same channel), so no charger starts delivering to a paused secondary.
 */
export function serveAdminToPrimary(backend: WorkerBackend, options: ServeAdminOptions): AdminWorkerLink {
  const { log } = options;
  const channel = options.channel ?? processChannel();
  const subscriptions = new Map<number, () => void>();
  let closed = false;
  let inFlight = 0;
  /** Set when a send said the channel is backed up; cleared when everything written has gone. */
  let backedUp = false;
  let droppedSinceReport = 0;
  let droppedTotal = 0;

  const noteSendError = (error: Error | null): void => {
    if (error !== null) log.debug({ err: error }, 'could not answer the cluster primary (its channel is closed)');
  };
  const send = (message: WorkerToPrimary, done: (error: Error | null) => void = noteSendError): boolean => {
    if (!channel.connected) return false;
    return channel.send(message, done);
  };

  const sendEvent = (subscriptionId: number, event: StreamEvent): void => {
    if (closed || !channel.connected) return;
    if (backedUp || inFlight >= MAX_EVENTS_IN_FLIGHT) {
      droppedSinceReport += 1;
      droppedTotal += 1;
      return;
    }
    inFlight += 1;
    const writable = send({ ocppSplitter: 'admin-event', subscriptionId, event }, () => {
      inFlight -= 1;
      if (inFlight > 0) return;
      backedUp = false;
      if (droppedSinceReport > 0) {
        log.warn({ dropped: droppedSinceReport }, 'live events dropped: the channel to the cluster primary was backed up');
        droppedSinceReport = 0;
      }
    });
    if (!writable) backedUp = true;
  };

  const answer = async (request: AdminRequest): Promise<unknown> => {
    switch (request.op) {
      case 'status':
        return backend.status();
      case 'chargers':
        return backend.chargers();
      case 'charger':
        // null, not undefined: JSON over IPC would drop the key.
        return (await backend.charger(request.id)) ?? null;
      case 'secondaries':
        return backend.secondaries();
      case 'disconnect':
        return backend.disconnect(request.id);
      case 'setPaused':
        return backend.setPaused(request.name, request.paused);
      case 'metrics':
        return backend.registry.getMetricsAsJSON();
    }
  };

  const handle = (message: AdminPrimaryMessage): void => {
    switch (message.ocppSplitter) {
      case 'admin-request': {
        const { requestId, request } = message;
        answer(request).then(
          (result) => {
            if (!closed) send({ ocppSplitter: 'admin-response', requestId, result });
          },
          (error: unknown) => {
            log.warn({ err: error, op: request.op }, 'admin request from the cluster primary failed');
            if (!closed) send({ ocppSplitter: 'admin-response', requestId, error: error instanceof Error ? error.message : String(error) });
          },
        );
        return;
      }
      case 'admin-paused':
        for (const name of message.names) {
          void backend.setPaused(name, true).then((known) => {
            if (!known) log.warn({ secondary: name }, 'could not pause a secondary as the cluster primary asked: unknown here, or the proxy is not listening yet');
          });
        }
        return;
      case 'admin-subscribe': {
        const { subscriptionId, filter } = message;
        if (subscriptions.has(subscriptionId)) return;
        if (subscriptions.size >= MAX_SUBSCRIPTIONS) {
          log.warn({ subscriptions: subscriptions.size }, 'too many live event subscriptions from the cluster primary; this one is ignored');
          return;
        }
        subscriptions.set(subscriptionId, backend.live(filter, (event) => sendEvent(subscriptionId, event)));
        return;
      }
      case 'admin-unsubscribe':
        subscriptions.get(message.subscriptionId)?.();
        subscriptions.delete(message.subscriptionId);
        return;
    }
  };

  const stopListening = channel.onMessage((message) => {
    if (!closed && isPrimaryMessage(message) && isAdminPrimaryMessage(message)) handle(message);
  });
  send({ ocppSplitter: 'admin-ready' });

  return {
    get droppedEvents() {
      return droppedTotal;
    },
    close() {
      if (closed) return;
      closed = true;
      stopListening();
      for (const unsubscribe of subscriptions.values()) unsubscribe();
      subscriptions.clear();
      backend.close();
    },
  };
}

/** This process's IPC channel to the cluster primary. */
export function processChannel(): PrimaryChannel {
  return {
    get connected() {
      return process.connected;
    },
    send(message, done) {
      // With a callback, a closed channel reports its error there rather than as an 'error' event that would crash the worker.
      return process.send?.(message, done) ?? false;
    },
    onMessage(listener) {
      process.on('message', listener);
      return () => process.off('message', listener);
    },
  };
}
