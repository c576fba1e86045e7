/**
 * `GET /api/events`: frames and events live, filtered by charger and leg, redacted, bounded.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_STREAMS } from '../../src/admin/event-stream.js';
import { answers16, closeAll, connectRawCharger, exchange, ocpp16, onCleanup, startAdmin, startProxy, startRawCsms, type StartedAdmin } from '../support/harness.js';
import { sseParser, type SseEvent } from '../support/admin.js';

afterEach(closeAll);

interface EventStream {
  readonly response: IncomingMessage;
  /** The next event that satisfies `predicate` (bounded wait). */
  next(predicate?: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  readonly events: SseEvent[];
  close(): void;
}

function openStream(admin: StartedAdmin, query = ''): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: admin.port, path: `/api/events${query}` }, (response) => {
      const events: SseEvent[] = [];
      const waiters: Array<() => void> = [];
      const parse = sseParser();
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        events.push(...parse(chunk));
        for (const wake of waiters.splice(0)) wake();
      });
      let seen = 0;
      const stream: EventStream = {
        response,
        events,
        close: () => req.destroy(),
        async next(predicate = () => true, timeoutMs = 5_000) {
          const deadline = performance.now() + timeoutMs;
          for (;;) {
            while (seen < events.length) {
              const event = events[seen++]!;
              if (predicate(event)) return event;
            }
            const remaining = deadline - performance.now();
            if (remaining <= 0) throw new Error(`no matching event; got ${JSON.stringify(events)}`);
            await new Promise<void>((wake) => {
              const timer = setTimeout(wake, remaining);
              waiters.push(() => {
                clearTimeout(timer);
                wake();
              });
            });
          }
        },
      };
      onCleanup(() => req.destroy());
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

async function site(): Promise<{ admin: StartedAdmin; proxyUrl: (path: string) => string }> {
  const primary = await startRawCsms({ answer: answers16(1) });
  const secondary = await startRawCsms({ answer: answers16(2) });
  const started = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url, name: 'energy' }] });
  return { admin: await startAdmin(started), proxyUrl: started.url };
}

describe('GET /api/events', () => {
  it('streams sessions, link states and frames of every leg as they happen', async () => {
    const { admin, proxyUrl } = await site();
    const stream = await openStream(admin);
    expect(stream.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const charger = await connectRawCharger(proxyUrl('/CP-LIVE'));
    expect((await stream.next((e) => e.event === 'session')).data).toEqual({ type: 'started', charger: 'CP-LIVE', protocol: 'ocpp1.6' });
    expect((await stream.next((e) => e.event === 'link' && e.data.state === 'open')).data).toMatchObject({ charger: 'CP-LIVE', secondary: 'energy' });
    await exchange(charger, ocpp16.heartbeat('hb-7'));
    const legs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { data } = await stream.next((e) => e.event === 'frame' && e.data.message_id === 'hb-7');
      legs.push(`${String(data.leg)}:${String(data.direction)}`);
    }
    // In from the charger, out to the primary, back in from the primary and out to the charger; out to the secondary.
    expect(legs.sort()).toEqual(['charger:in', 'charger:out', 'primary:in', 'primary:out', 'secondary:out']);
    const mirrored = stream.events.find((e) => e.event === 'frame' && e.data.leg === 'secondary' && e.data.message_id === 'hb-7');
    expect(mirrored?.data).toMatchObject({ secondary: 'energy', action: 'Heartbeat', type: 'call', message_type: 2, body: ocpp16.heartbeat('hb-7').text });
    charger.socket.close();
    expect((await stream.next((e) => e.event === 'session')).data).toEqual({ type: 'ended', charger: 'CP-LIVE', protocol: 'ocpp1.6' });
  });

  it('filters by charger and by leg (a secondary by its name)', async () => {
    const { admin, proxyUrl } = await site();
    const onlyEnergy = await openStream(admin, '?charger=CP-B&leg=energy');
    const onlyPrimary = await openStream(admin, '?leg=primary');
    const a = await connectRawCharger(proxyUrl('/CP-A'));
    const b = await connectRawCharger(proxyUrl('/CP-B'));
    await exchange(a, ocpp16.heartbeat('a1'));
    await exchange(b, ocpp16.heartbeat('b1'));
    const energy = await onlyEnergy.next((e) => e.event === 'frame');
    expect(energy.data).toMatchObject({ charger: 'CP-B', leg: 'secondary', secondary: 'energy', message_id: 'b1' });
    await onlyPrimary.next((e) => e.event === 'frame' && e.data.message_id === 'b1');
    expect(onlyPrimary.events.filter((e) => e.event === 'frame').every((e) => e.data.leg === 'primary')).toBe(true);
    expect(onlyEnergy.events.filter((e) => e.event !== 'frame').every((e) => e.data.charger === 'CP-B')).toBe(true);
    expect(onlyEnergy.events.some((e) => e.event === 'frame' && e.data.leg !== 'secondary')).toBe(false);
  });

  it('redacts frames that carry credentials', async () => {
    const { admin, proxyUrl } = await site();
    const stream = await openStream(admin, '?leg=charger');
    const charger = await connectRawCharger(proxyUrl('/CP-RED'));
    charger.socket.send('[2,"x1","ChangeConfiguration",{"key":"AuthorizationKey","value":"DEADBEEFDEADBEEF"}]');
    const frame = await stream.next((e) => e.event === 'frame' && e.data.message_id === 'x1');
    expect(frame.data).toMatchObject({ action: 'ChangeConfiguration', body: '[body not shown: may carry credentials]' });
    expect(JSON.stringify(stream.events)).not.toContain('DEADBEEF');
  });

  it('answers HEAD with the headers only, holding no stream slot (regression)', async () => {
    const { admin } = await site();
    for (let i = 0; i < MAX_STREAMS + 2; i++) {
      const head = await fetch(admin.url('/api/events'), { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    }
    const stream = await openStream(admin);
    expect(stream.response.statusCode).toBe(200);
  });

  it(`refuses a stream beyond ${MAX_STREAMS} open ones with 503`, async () => {
    const { admin } = await site();
    const open: EventStream[] = [];
    for (let i = 0; i < MAX_STREAMS; i++) open.push(await openStream(admin));
    const extra = await fetch(admin.url('/api/events'));
    expect(extra.status).toBe(503);
    open[0]?.close();
    // Once one closes, a new one is taken (the server notices the close asynchronously).
    const deadline = performance.now() + 5_000;
    for (;;) {
      const again = await openStream(admin);
      if (again.response.statusCode === 200) break;
      again.close();
      if (performance.now() > deadline) throw new Error('a closed stream was never released');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});
