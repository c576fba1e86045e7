/**
 * `GET /api/events`: Server-Sent Events of frames, sessions and link states, live, filtered by charger and
 * leg. Bounded: at most MAX_STREAMS at once, and a client that reads slower than events arrive loses events
 * (counted, and told with a `dropped` event) rather than making the proxy buffer them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveEvent } from './observer.js';
import { frameJson } from './status.js';

/** One event of the stream, rendered: its SSE name and JSON data. */
export interface StreamEvent {
  readonly event: 'frame' | 'session' | 'link';
  readonly data: object;
}

/** Where live events come from: the local observer, or (with workers) every worker. */
export type LiveSource = (filter: StreamFilter, listener: (event: StreamEvent) => void) => () => void;

/** The stream's rendering of an observer's event, or undefined when `filter` leaves it out. */
export function renderLiveEvent(event: LiveEvent, filter: StreamFilter): StreamEvent | undefined {
  if (filter.charger !== undefined && chargerOf(event) !== filter.charger) return undefined;
  switch (event.kind) {
    case 'frame': {
      const { frame } = event;
      if (filter.leg !== undefined && filter.leg !== (frame.leg === 'secondary' ? frame.secondary : frame.leg)) return undefined;
      return { event: 'frame', data: frameJson(frame.chargerId, { ...frame, secondary: frame.secondary }) };
    }
    case 'session':
      return { event: 'session', data: { type: event.type, charger: event.chargerId, protocol: event.protocol } };
    case 'link':
      return { event: 'link', data: { charger: event.chargerId, secondary: event.secondary, state: event.state, reason: event.reason ?? null } };
  }
}

export const MAX_STREAMS = 16;
/** Bytes written but not yet sent to one client above which its events are dropped. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
export const KEEPALIVE_MS = 15_000;

export interface StreamFilter {
  /** Only this charger's frames and events. */
  readonly charger?: string | undefined;
  /** Only frames on this leg: 'charger', 'primary', or a secondary's name. Sessions and links always pass. */
  readonly leg?: string | undefined;
}

export class EventStreams {
  readonly #source: LiveSource;
  readonly #open = new Set<() => void>();

  constructor(source: LiveSource) {
    this.#source = source;
  }

  get size(): number {
    return this.#open.size;
  }

  /** Starts a stream on `response`; false when MAX_STREAMS are open already. */
  open(request: IncomingMessage, response: ServerResponse, filter: StreamFilter): boolean {
    if (this.#open.size >= MAX_STREAMS) return false;
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      // Reverse proxies (nginx, Home Assistant's ingress) must pass events on at once.
      'X-Accel-Buffering': 'no',
    });
    response.write(': ocpp-splitter event stream\nretry: 2000\n\n');
    let dropped = 0;
    const send = (event: string, data: unknown): void => {
      if (response.writableLength > MAX_BUFFERED_BYTES) {
        dropped += 1;
        return;
      }
      if (dropped > 0) {
        response.write(`event: dropped\ndata: ${JSON.stringify({ count: dropped })}\n\n`);
        dropped = 0;
      }
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const unsubscribe = this.#source(filter, (event) => send(event.event, event.data));
    const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS).unref();
    const end = (): void => {
      if (!this.#open.delete(end)) return;
      clearInterval(keepalive);
      unsubscribe();
      response.end();
    };
    this.#open.add(end);
    request.on('close', end);
    response.on('close', end);
    response.on('error', end);
    return true;
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const end of [...this.#open]) end();
  }
}

function chargerOf(event: LiveEvent): string {
  return event.kind === 'frame' ? event.frame.chargerId : event.chargerId;
}
