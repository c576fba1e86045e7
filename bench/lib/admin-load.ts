/**
 * What an operator's tools ask of the admin listener while the proxy works: Prometheus
 * scraping `/metrics` at a fixed interval and, for the live-debug row only, one dashboard
 * with the event stream (`/api/events`, SSE) open. Both run in the load generator's
 * process, as they would on another machine: the proxy pays for answering, not asking.
 */
import { Agent, get, type ClientRequest, type IncomingMessage } from 'node:http';

/** A metric every scrape must contain: a 200 with an empty registry would measure nothing. */
const EXPECTED_METRIC = 'ocpp_splitter_frames_total';

export interface ScrapeSummary {
  /** Scrapes answered 200 with the expected metrics. */
  readonly scrapes: number;
  /** Bytes of the last exposition. */
  readonly lastBytes: number;
  /** The slowest scrape, as this process saw it. */
  readonly maxMs: number;
}

export interface Scraper {
  /** Stops scraping; rejects when a scrape failed (a broken /metrics must fail the benchmark). */
  close(): Promise<ScrapeSummary>;
}

/**
 * GET `/metrics` now and every `intervalMs`, on one keep-alive connection as Prometheus does. A scrape
 * still running when the next is due is not doubled (Prometheus would time it out instead).
 */
export function startScraper(port: number, intervalMs: number): Scraper {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let scrapes = 0;
  let lastBytes = 0;
  let maxMs = 0;
  let failure: Error | undefined;
  let inFlight: Promise<void> | undefined;
  const scrape = (): void => {
    if (inFlight !== undefined || failure !== undefined) return;
    const started = performance.now();
    inFlight = readBody(get({ host: '127.0.0.1', port, path: '/metrics', agent }))
      .then(({ status, body }) => {
        if (status !== 200 || !body.includes(EXPECTED_METRIC)) throw new Error(`GET /metrics answered ${status}: ${body.slice(0, 200)}`);
        scrapes += 1;
        lastBytes = Buffer.byteLength(body);
        maxMs = Math.max(maxMs, performance.now() - started);
      })
      .catch((error: unknown) => {
        failure = error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        inFlight = undefined;
      });
  };
  scrape();
  const timer = setInterval(scrape, intervalMs);
  return {
    async close() {
      clearInterval(timer);
      await inFlight;
      agent.destroy();
      if (failure !== undefined) throw new Error(`benchmark: the metrics scraper failed: ${failure.message}`);
      return { scrapes, lastBytes, maxMs };
    },
  };
}

export interface EventStreamSummary {
  /** Events received (frames, sessions, link states, `dropped` notices). */
  readonly events: number;
  /** Events the proxy dropped because this client read too slowly (from its `dropped` events). */
  readonly dropped: number;
}

export interface EventStreamClient {
  close(): EventStreamSummary;
}

/** Opens `/api/events` (every charger, every leg) and reads it as a dashboard would; resolves once the stream is open. */
export async function openEventStream(port: number): Promise<EventStreamClient> {
  let request: ClientRequest | undefined;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    request = get({ host: '127.0.0.1', port, path: '/api/events', headers: { Accept: 'text/event-stream' } }, resolve);
    request.once('error', reject);
  });
  if (response.statusCode !== 200) throw new Error(`benchmark: GET /api/events answered ${response.statusCode ?? 0}`);
  let events = 0;
  let dropped = 0;
  let pending = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    // Events end with a blank line; a chunk may end inside one, so keep its tail for the next.
    const blocks = (pending + chunk).split('\n\n');
    pending = blocks.pop() ?? '';
    for (const block of blocks) {
      if (!block.startsWith('event: ')) continue;
      events += 1;
      if (block.startsWith('event: dropped\n')) dropped += Number(/"count":(\d+)/.exec(block)?.[1] ?? 0);
    }
  });
  response.on('error', () => {
    // Destroyed by close(): nothing more to count.
  });
  return {
    close() {
      request?.destroy();
      return { events, dropped };
    },
  };
}

function readBody(request: ClientRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request.once('error', reject);
    request.once('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.once('error', reject);
    });
  });
}
