/**
 * The admin listener's status API and actions, against a real proxy with a charger, a primary and a
 * secondary on real sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { answers16, closeAll, connectRawCharger, exchange, ocpp16, startAdmin, startProxy, startRawCsms, type RawCsms } from '../support/harness.js';

afterEach(closeAll);

async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: response.headers };
}

/** Polls `probe` until it returns a value other than undefined (bounded). */
async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function siteWithSecondary(): Promise<{ primary: RawCsms; secondary: RawCsms; admin: Awaited<ReturnType<typeof startAdmin>>; proxyUrl: (path: string) => string }> {
  const primary = await startRawCsms({ answer: answers16(11) });
  const secondary = await startRawCsms({ answer: answers16(22) });
  const started = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url, name: 'analytics' }] });
  const admin = await startAdmin(started);
  return { primary, secondary, admin, proxyUrl: started.url };
}

describe('GET /api/status', () => {
  it('gives version, uptime, a redacted config and counts', async () => {
    const primary = await startRawCsms({ answer: answers16(1) });
    const started = await startProxy(primary.url.replace('ws://', 'ws://user:secret@'), {
      secondary_csms: [{ url: 'ws://127.0.0.1:9/ocpp?token=abc', name: 'energy' }],
    });
    const admin = await startAdmin(started);
    const { status, body } = await getJson(admin.url('/api/status'));
    expect(status).toBe(200);
    expect(body).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/) as unknown,
      uptime_s: expect.any(Number) as unknown,
      store: { engine: 'sqlite' },
      counts: { chargers: 0, secondaries: 1, secondaries_paused: 0 },
      frames_total: { charger: 0, primary: 0, secondary: 0 },
    });
    const text = JSON.stringify(body);
    expect(text).not.toContain('secret');
    expect(text).not.toContain('token=abc');
  });
});

describe('GET /api/chargers and /api/chargers/{id}', () => {
  it('lists a connected charger with its legs, and shows its recent frames', async () => {
    const { admin, proxyUrl } = await siteWithSecondary();
    const charger = await connectRawCharger(proxyUrl('/CP-ADMIN'));
    // The first look starts the recording of its frames.
    expect(((await getJson(admin.url('/api/chargers/CP-ADMIN'))).body as { recent_frames: unknown[] }).recent_frames).toEqual([]);
    await exchange(charger, ocpp16.boot('b1'));
    await exchange(charger, ocpp16.heartbeat('h1'));

    const list = await until(async () => {
      const { body } = await getJson(admin.url('/api/chargers'));
      const [first] = body as Array<{ secondaries: Array<{ state: string; outbox_messages: number }> }>;
      const link = first?.secondaries[0];
      return link?.state === 'open' && link.outbox_messages === 0 ? (body as unknown[]) : undefined;
    }, 'the secondary link to open and take everything');
    expect(list).toEqual([
      {
        id: 'CP-ADMIN',
        protocol: 'ocpp1.6',
        remote_address: '127.0.0.1',
        connected_at: expect.any(String) as unknown,
        last_frame_at: expect.any(String) as unknown,
        primary: { state: 'open' },
        secondaries: [{ name: 'analytics', state: 'open', outbox_messages: 0, outbox_bytes: 0, oldest_age_s: null }],
      },
    ]);

    const { status, body } = await getJson(admin.url('/api/chargers/CP-ADMIN'));
    expect(status).toBe(200);
    const frames = (body as { recent_frames: Array<{ leg: string; direction: string; action: string | null; message_id: string | null; body: string }> }).recent_frames;
    // The heartbeat in from the charger and its answer in from the primary, each once: what is passed on unchanged
    // is listed on the leg it arrived on. The mirrored copy went out to the secondary.
    expect(frames).toContainEqual(expect.objectContaining({ leg: 'charger', direction: 'in', action: 'Heartbeat', message_id: 'h1', body: ocpp16.heartbeat('h1').text }));
    expect(frames).toContainEqual(expect.objectContaining({ leg: 'primary', direction: 'in', message_id: 'h1', action: null }));
    expect(frames.filter((frame) => frame.message_id === 'h1' && frame.leg !== 'secondary')).toHaveLength(2);
  });

  it('records frames only for a charger someone looked at, and observes no frame while nobody looks', async () => {
    const { admin, proxyUrl } = await siteWithSecondary();
    const watched = await connectRawCharger(proxyUrl('/CP-SEEN'));
    const unseen = await connectRawCharger(proxyUrl('/CP-UNSEEN'));
    const backend = admin.admin.backend as unknown as { observer: { observingFrames: boolean; recentFrames(id: string): unknown[] } };
    await exchange(unseen, ocpp16.heartbeat('u1'));
    expect(backend.observer.observingFrames).toBe(false);
    await getJson(admin.url('/api/chargers/CP-SEEN'));
    expect(backend.observer.observingFrames).toBe(true);
    await exchange(watched, ocpp16.heartbeat('w1'));
    await exchange(unseen, ocpp16.heartbeat('u2'));
    expect(backend.observer.recentFrames('CP-UNSEEN')).toEqual([]);
    expect(backend.observer.recentFrames('CP-SEEN').length).toBeGreaterThanOrEqual(2);
  });

  it('answers 404 for a charger that is not connected, with the id percent-decoded', async () => {
    const { admin } = await siteWithSecondary();
    const { status, body } = await getJson(admin.url('/api/chargers/CP%2F9'));
    expect(status).toBe(404);
    expect(body).toEqual({ error: 'charger "CP/9" is not connected' });
    expect((await getJson(admin.url('/api/chargers/%E0%A4%A'))).status).toBe(400);
  });

  it('keeps a bounded recent list: a large frame by its head and size only (regression)', async () => {
    const { admin, proxyUrl } = await siteWithSecondary();
    const charger = await connectRawCharger(proxyUrl('/CP-BIG'));
    await getJson(admin.url('/api/chargers/CP-BIG'));
    const big = JSON.stringify([2, 'big-1', 'DataTransfer', { vendorId: 'x', data: 'é'.repeat(9_000) }]);
    await exchange(charger, { id: 'big-1', action: 'DataTransfer', payload: {}, text: big });
    for (let i = 0; i < 40; i++) await exchange(charger, ocpp16.heartbeat(`h${i}`));
    const { body } = await getJson(admin.url('/api/chargers/CP-BIG'));
    const frames = (body as { recent_frames: Array<{ message_id: string | null }> }).recent_frames;
    expect(frames.length).toBe(16);
    charger.socket.send(big);
    const detail = await until(async () => {
      const recent = ((await getJson(admin.url('/api/chargers/CP-BIG'))).body as { recent_frames: Array<Record<string, unknown>> }).recent_frames;
      return recent.find((frame) => frame.message_id === 'big-1' && frame.leg === 'charger');
    }, 'the large frame in the list');
    expect(detail).toMatchObject({ type: 'call', action: 'DataTransfer', message_type: 2, bytes: Buffer.byteLength(big) });
    expect(String(detail.body)).toContain('too large to keep');
  });

  it('never shows the body of a frame that carries credentials, even with an invalid message id', async () => {
    const { admin, proxyUrl } = await siteWithSecondary();
    const charger = await connectRawCharger(proxyUrl('/CP-SECRET'));
    await getJson(admin.url('/api/chargers/CP-SECRET'));
    charger.socket.send('[2,"","ChangeConfiguration",{"key":"AuthorizationKey","value":"0011223344556677"}]');
    charger.socket.send('[2,"c2","DataTransfer",{"vendorId":"x","data":"{\\"password\\":\\"hunter2\\"}"}]');
    const frames = await until(async () => {
      const { body } = await getJson(admin.url('/api/chargers/CP-SECRET'));
      const recent = (body as { recent_frames: Array<{ body: string }> }).recent_frames;
      return recent.length >= 2 ? recent : undefined;
    }, 'the frames to be recorded');
    const text = JSON.stringify(frames);
    expect(text).not.toContain('0011223344556677');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('[body not shown: may carry credentials]');
  });
});

describe('GET /api/secondaries and pause / resume', () => {
  it('pauses a secondary for every charger: messages are stored, then delivered in order on resume', async () => {
    const { admin, proxyUrl, secondary } = await siteWithSecondary();
    const charger = await connectRawCharger(proxyUrl('/CP-PAUSE'));
    const secondaryPeer = await secondary.nextPeer();
    await exchange(charger, ocpp16.boot('b1'));
    expect(JSON.parse((await secondaryPeer.nextFrame()).data.toString())).toEqual([2, 'b1', 'BootNotification', ocpp16.boot('b1').payload]);

    const paused = await getJson(admin.url('/api/secondaries/analytics/pause'), { method: 'POST' });
    expect(paused).toMatchObject({ status: 200, body: { name: 'analytics', paused: true } });
    await secondaryPeer.closed;
    await exchange(charger, ocpp16.heartbeat('h1'));
    await exchange(charger, ocpp16.status('s1'));

    const listed = await until(async () => {
      const { body } = await getJson(admin.url('/api/secondaries'));
      const [first] = body as Array<{ outbox_messages: number }>;
      return first !== undefined && first.outbox_messages >= 2 ? first : undefined;
    }, 'the backlog to be stored');
    expect(listed).toMatchObject({ name: 'analytics', paused: true, links_connected: 0, outbox_messages: 2 });
    const [chargerStatus] = (await getJson(admin.url('/api/chargers'))).body as Array<{ secondaries: Array<{ state: string }> }>;
    expect(chargerStatus?.secondaries[0]?.state).toBe('paused');
    expect(secondary.peers).toHaveLength(1); // not dialled again while paused

    expect(await getJson(admin.url('/api/secondaries/analytics/resume'), { method: 'POST' })).toMatchObject({ status: 200, body: { name: 'analytics', paused: false } });
    const again = await secondary.nextPeer();
    const delivered: unknown[] = [];
    for (let i = 0; i < 3; i++) delivered.push(JSON.parse((await again.nextFrame()).data.toString()));
    // The BootNotification replay first, then what was stored while paused, in order.
    expect(delivered.map((frame) => (frame as unknown[])[2])).toEqual(['BootNotification', 'Heartbeat', 'StatusNotification']);
    expect((delivered[1] as unknown[])[1]).toBe('h1');
  });

  it('keeps a charger that connects while paused from dialling the paused secondary', async () => {
    const { admin, proxyUrl, secondary } = await siteWithSecondary();
    await getJson(admin.url('/api/secondaries/analytics/pause'), { method: 'POST' });
    const charger = await connectRawCharger(proxyUrl('/CP-LATE'));
    await exchange(charger, ocpp16.boot('b1'));
    const [status] = (await getJson(admin.url('/api/chargers'))).body as Array<{ secondaries: Array<{ state: string }> }>;
    expect(status?.secondaries[0]?.state).toBe('paused');
    expect(secondary.peers).toHaveLength(0);
    await getJson(admin.url('/api/secondaries/analytics/resume'), { method: 'POST' });
    const peer = await secondary.nextPeer();
    expect(JSON.parse((await peer.nextFrame()).data.toString())).toEqual([2, 'b1', 'BootNotification', ocpp16.boot('b1').payload]);
  });

  it('pause and resume while a replaced session still hands over: the new link dials once allowed (regression)', async () => {
    const { admin, proxyUrl, secondary } = await siteWithSecondary();
    const first = await connectRawCharger(proxyUrl('/CP-HAND'));
    const firstLink = await secondary.nextPeer();
    await exchange(first, ocpp16.boot('b1'));
    await firstLink.nextFrame();
    // The secondary stops reading: the old link's close handshake hangs, so the new session waits to dial.
    (firstLink.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const second = await connectRawCharger(proxyUrl('/CP-HAND'));
    expect((await getJson(admin.url('/api/secondaries/analytics/pause'), { method: 'POST' })).status).toBe(200);
    expect((await getJson(admin.url('/api/secondaries/analytics/resume'), { method: 'POST' })).status).toBe(200);
    await exchange(second, ocpp16.heartbeat('h1'));
    // Before the fix the link stayed paused for good once the handover ended: never dialled again.
    const again = await secondary.nextPeer();
    const frames: unknown[] = [];
    for (let i = 0; i < 2; i++) frames.push((JSON.parse((await again.nextFrame()).data.toString()) as unknown[])[2]);
    expect(frames).toEqual(['BootNotification', 'Heartbeat']);
  }, 15_000);

  it('answers 404 for an unknown secondary and 405 for the wrong method', async () => {
    const { admin } = await siteWithSecondary();
    expect(await getJson(admin.url('/api/secondaries/nope/pause'), { method: 'POST' })).toMatchObject({ status: 404, body: { error: 'no secondary is named "nope"' } });
    const wrong = await getJson(admin.url('/api/secondaries/analytics/pause'));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await getJson(admin.url('/api/nothing-here'))).status).toBe(404);
  });
});

describe('POST /api/chargers/{id}/disconnect', () => {
  it('closes the charger and its primary connection with 1001', async () => {
    const { admin, proxyUrl, primary } = await siteWithSecondary();
    const charger = await connectRawCharger(proxyUrl('/CP-KICK'));
    const primaryPeer = await primary.nextPeer();
    const { status, body } = await getJson(admin.url('/api/chargers/CP-KICK/disconnect'), { method: 'POST' });
    expect(status).toBe(202);
    expect(body).toEqual({ id: 'CP-KICK', disconnected: true });
    expect((await charger.closed).code).toBe(1001);
    expect((await primaryPeer.closed).code).toBe(1001);
    expect((await getJson(admin.url('/api/chargers/CP-KICK/disconnect'), { method: 'POST' })).status).toBe(404);
  });
});
