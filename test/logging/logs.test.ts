/**
 * Logs: the spec's JSON line shape, one debug line per frame and direction,
 * and never a credential or a URL query string.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/logging/logger.js';
import { createProxy } from '../../src/proxy.js';
import { closeAll, connectRawCharger, onCleanup, startProxy, startRawCsms, temporaryDirectory, upgradeStatus } from '../support/harness.js';

afterEach(closeAll);

describe('log lines', () => {
  it('carry time (ISO), level (name), tag and msg, as in the spec', async () => {
    const csms = await startRawCsms();
    const { url, logs } = await startProxy(csms.url);
    await connectRawCharger(url('/CP-LOG'));
    const listening = await logs.waitFor('proxy listening');
    expect(listening).toMatchObject({ level: 'info', tag: 'proxy' });
    expect(typeof listening.port).toBe('number');
    expect(new Date(String(listening.time)).toISOString()).toBe(listening.time);
    const started = await logs.waitFor('session started');
    expect(started).toMatchObject({ level: 'info', tag: 'CP-LOG', protocol: 'ocpp1.6' });
    await logs.waitFor('primary connected', (line) => line.tag === 'CP-LOG');
    for (const line of logs.lines) {
      expect(Object.keys(line).slice(0, 2).sort()).toEqual(['level', 'time']);
      expect(line).not.toHaveProperty('pid');
    }
  });

  it('at debug, one line per frame and direction, the body cut at log_max_message_length', async () => {
    const csms = await startRawCsms();
    const { url, logs } = await startProxy(csms.url, { log_max_message_length: 20 });
    const charger = await connectRawCharger(url('/CP-DBG'));
    const primary = await csms.nextPeer();
    charger.socket.send('[2,"abc123","BootNotification",{"chargePointVendor":"VendorWithALongName","chargePointModel":"M"}]');
    await primary.nextFrame();
    primary.socket.send('[3,"abc123",{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":300}]');
    await charger.nextFrame();

    const up = await logs.waitFor('charger → proxy');
    expect(up).toMatchObject({ level: 'debug', tag: 'CP-DBG' });
    expect(String(up.message)).toMatch(/^\[CALL\] BootNotification \(abc123\) /);
    expect(String(up.message)).toContain('…');
    expect(String(up.message)).not.toContain('chargePointModel');
    const down = await logs.waitFor('primary → proxy');
    expect(String(down.message)).toMatch(/^\[CALLRESULT\] \(abc123\)/);
    expect(logs.lines.filter((line) => line.msg === 'charger → proxy')).toHaveLength(1);
  });

  it('0 means no cut', async () => {
    const csms = await startRawCsms();
    const { url, logs } = await startProxy(csms.url, { log_max_message_length: 0 });
    const charger = await connectRawCharger(url('/CP-FULL'));
    const primary = await csms.nextPeer();
    const long = `[2,"x1","DataTransfer",{"vendorId":"v","data":"${'z'.repeat(500)}"}]`;
    charger.socket.send(long);
    await primary.nextFrame();
    const line = await logs.waitFor('charger → proxy');
    expect(String(line.message)).toContain('z'.repeat(500));
  });

  it('at info, no per-frame lines are written', async () => {
    const csms = await startRawCsms();
    const { url, logs } = await startProxy(csms.url, { log_level: 'info' });
    const charger = await connectRawCharger(url('/CP-QUIET'));
    const primary = await csms.nextPeer();
    charger.socket.send('[2,"q","Heartbeat",{}]');
    await primary.nextFrame();
    expect(logs.lines.some((line) => String(line.msg).includes('→'))).toBe(false);
  });
});

describe('connect, refusal and replacement lines say where the charger connected from', () => {
  it('connect lines carry the remote address and the path without its query', async () => {
    const csms = await startRawCsms();
    const { url, logs } = await startProxy(csms.url);
    await connectRawCharger(url('/site/CP-FROM?token=abc'));
    for (const msg of ['primary connected', 'session started']) {
      const line = await logs.waitFor(msg);
      expect(line, msg).toMatchObject({ tag: 'CP-FROM', remote_address: '127.0.0.1', path: '/site/CP-FROM' });
      expect(line, msg).not.toHaveProperty('forwarded_by');
    }
  });

  it('refusals by any step carry them: the charger\'s own (400) and the primary\'s (401)', async () => {
    const csms = await startRawCsms({ refuseWith: { status: 401 } });
    const { url, logs } = await startProxy(csms.url);
    expect((await upgradeStatus(url('/?secret=1'))).status).toBe(400);
    expect(await logs.waitFor('charger refused')).toMatchObject({ status: 400, remote_address: '127.0.0.1', path: '/' });
    expect((await upgradeStatus(url('/CP-NO?secret=1'))).status).toBe(401);
    expect(await logs.waitFor('primary refused the connection')).toMatchObject({ tag: 'CP-NO', status: 401, remote_address: '127.0.0.1', path: '/CP-NO' });
  });

  it('a replacement names both connections', async () => {
    const csms = await startRawCsms();
    const { url, logs } = await startProxy(csms.url);
    await connectRawCharger(url('/CP-TWICE'));
    await logs.waitFor('session started');
    await connectRawCharger(url('/again/CP-TWICE'));
    expect(await logs.waitFor('charge point id already connected: the older connection is replaced')).toMatchObject({
      tag: 'CP-TWICE',
      remote_address: '127.0.0.1',
      path: '/again/CP-TWICE',
      replaced_remote_address: '127.0.0.1',
    });
  });

  it('with trust_proxy, a replacement names both forwarded addresses and the proxy they came through (issue 11, finding 6)', async () => {
    const csms = await startRawCsms();
    const { url, logs } = await startProxy(csms.url, { trust_proxy: true });
    await connectRawCharger(url('/CP-TAKEN'), ['ocpp1.6'], { headers: { 'X-Forwarded-For': '198.51.100.7' } });
    await logs.waitFor('session started');
    await connectRawCharger(url('/CP-TAKEN'), ['ocpp1.6'], { headers: { 'X-Forwarded-For': 'forged, 203.0.113.9' } });
    expect(await logs.waitFor('charge point id already connected: the older connection is replaced')).toMatchObject({
      level: 'warn',
      tag: 'CP-TAKEN',
      remote_address: '203.0.113.9',
      forwarded_by: '127.0.0.1',
      replaced_remote_address: '198.51.100.7',
      replaced_forwarded_by: '127.0.0.1',
    });
  });

  it('X-Forwarded-For counts only with trust_proxy: true, and then names the proxy', async () => {
    const csms = await startRawCsms();
    const headers = { 'X-Forwarded-For': 'forged, 198.51.100.9' };
    const untrusting = await startProxy(csms.url);
    await connectRawCharger(untrusting.url('/CP-XFF'), ['ocpp1.6'], { headers });
    expect(await untrusting.logs.waitFor('session started')).toMatchObject({ remote_address: '127.0.0.1' });

    const trusting = await startProxy(csms.url, { trust_proxy: true });
    await connectRawCharger(trusting.url('/CP-XFF2'), ['ocpp1.6'], { headers });
    expect(await trusting.logs.waitFor('session started')).toMatchObject({ remote_address: '198.51.100.9', forwarded_by: '127.0.0.1' });
  });
});

describe('secrets never reach the logs', () => {
  it('no password, Authorization header or URL query string in any line, at debug', async () => {
    const password = 'Sup3r-S3cret-AuthKey';
    const authorization = `Basic ${Buffer.from(`CP-SECRET:${password}`).toString('base64')}`;
    const csms = await startRawCsms();
    const primaryUrl = `ws://operator:csms-pass-999@127.0.0.1:${csms.port}/ocpp?token=query-secret-123`;
    const { url, logs, proxy } = await startProxy(primaryUrl, {
      secondary_csms: [{ url: 'wss://user:secondary-pass@mirror.invalid/ocpp?key=mirror-secret', charger_map: [{ charger_id: 'CP-SECRET', password: 'map-password-777' }] }],
    });
    const charger = await connectRawCharger(url('/CP-SECRET?chargerquery=leak-me'), ['ocpp1.6'], { headers: { Authorization: authorization } });
    const primary = await csms.nextPeer();
    expect(csms.requests[0]?.headers.authorization).toBe(authorization);
    charger.socket.send('[2,"s1","Heartbeat",{}]');
    await primary.nextFrame();
    // Refused upgrades are logged with their path: never with its query.
    expect((await upgradeStatus(url('/?password=refusal-secret-42'), ['ocpp1.6'], { Authorization: authorization })).status).toBe(400);
    await logs.waitFor('charger refused');
    charger.socket.close(1000, 'bye');
    await charger.closed;
    await proxy.close();

    const everything = logs.raw.join('');
    expect(logs.lines.length).toBeGreaterThan(5);
    for (const secret of [password, authorization, authorization.slice(6), 'csms-pass-999', 'query-secret-123', 'secondary-pass', 'mirror-secret', 'map-password-777', 'leak-me', 'token=', 'operator:', 'refusal-secret-42']) {
      expect(everything).not.toContain(secret);
    }
  });
});

describe('log_format: pretty', () => {
  it('one readable line per entry, with the same fields and still no credentials', async () => {
    const text: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text.push(chunk.toString());
        done();
      },
    });
    const csms = await startRawCsms();
    const config = configSchema.parse({
      port: 0,
      host: '127.0.0.1',
      primary_csms_url: `ws://operator:csms-pass-999@127.0.0.1:${csms.port}/ocpp?token=query-secret-123`,
      log_level: 'debug',
      log_format: 'pretty',
      data_dir: temporaryDirectory(),
    });
    const proxy = createProxy(config, { logger: createLogger(config.log_level, sink, config.log_format) });
    onCleanup(() => proxy.close());
    const { port } = await proxy.listen();
    const authorization = `Basic ${Buffer.from('CP-PRETTY:Sup3r-S3cret').toString('base64')}`;
    const charger = await connectRawCharger(`ws://127.0.0.1:${port}/CP-PRETTY?key=leak-me`, ['ocpp1.6'], { headers: { Authorization: authorization } });
    const primary = await csms.nextPeer();
    charger.socket.send('[2,"p1","Heartbeat",{}]');
    await primary.nextFrame();
    await proxy.close();

    const lines = text.join('').trimEnd().split('\n');
    const started = lines.find((line) => line.includes('session started')) ?? '';
    expect(started).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: \[CP-PRETTY\] session started \{.*"remote_address":"127\.0\.0\.1","path":"\/CP-PRETTY"\}$/);
    expect(lines.some((line) => line.includes('DEBUG: [CP-PRETTY] charger → proxy'))).toBe(true);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).toThrow();
    const everything = text.join('');
    for (const secret of ['Sup3r-S3cret', authorization.slice(6), 'csms-pass-999', 'query-secret-123', 'leak-me', 'operator:']) {
      expect(everything).not.toContain(secret);
    }
  });
});
