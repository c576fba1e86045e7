/**
 * The admin API's Server-Sent Events, read with fetch and a ReadableStream: EventSource cannot send the
 * Authorization header. Reconnects with jittered backoff whenever the stream ends, until aborted.
 */
import { authHeaders, onAuthChange, requireToken } from './auth.js';
import { reconnectDelayMs } from './backoff.js';
import { SseParser, type SseEvent } from './sse-parser.js';

export type StreamState = 'connecting' | 'live' | 'reconnecting';

export interface EventStreamHandlers {
  /** The events one chunk of the stream completed (a batch, so a burst renders once). */
  readonly onEvents: (events: readonly SseEvent[]) => void;
  readonly onState: (state: StreamState) => void;
}

/** Follows `url` until `signal` aborts. Never rejects. */
export async function followEvents(url: string, handlers: EventStreamHandlers, signal: AbortSignal): Promise<void> {
  let attempt = 0;
  while (!signal.aborted) {
    handlers.onState(attempt === 0 ? 'connecting' : 'reconnecting');
    const outcome = await readOnce(url, handlers, signal);
    if (signal.aborted) return;
    if (outcome === 'unauthorized') {
      // Nothing to retry until someone types a token.
      await untilAuthChange(signal);
      attempt = 0;
      continue;
    }
    if (outcome === 'streamed') attempt = 0;
    handlers.onState('reconnecting');
    await delay(reconnectDelayMs(attempt), signal);
    attempt += 1;
  }
}

type Outcome = 'streamed' | 'failed' | 'unauthorized';

async function readOnce(url: string, handlers: EventStreamHandlers, signal: AbortSignal): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: 'text/event-stream', ...authHeaders() }, cache: 'no-store', signal });
  } catch (error) {
    reportDrop(url, error, signal);
    return 'failed';
  }
  if (response.status === 401) {
    requireToken();
    return 'unauthorized';
  }
  if (!response.ok || response.body === null) {
    console.warn(`events: ${url} answered ${String(response.status)}`);
    return 'failed';
  }
  handlers.onState('live');
  const parser = new SseParser();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return 'streamed';
      const events = parser.push(value);
      if (events.length > 0) handlers.onEvents(events);
    }
  } catch (error) {
    reportDrop(url, error, signal);
    return 'streamed';
  }
}

function reportDrop(url: string, error: unknown, signal: AbortSignal): void {
  if (!signal.aborted) console.warn(`events: ${url} dropped`, error);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function untilAuthChange(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = onAuthChange(done);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      unsubscribe();
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
