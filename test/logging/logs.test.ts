/**
 * Logs: the spec's JSON line shape, one debug line per frame and direction,
 * and never a credential or a URL query string.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connectRawCharger, startProxy, startRawCsms } from '../support/harness.js';

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
    charger.socket.close(1000, 'bye');
    await charger.closed;
    await proxy.close();

    const everything = logs.raw.join('');
    expect(logs.lines.length).toBeGreaterThan(5);
    for (const secret of [password, authorization, authorization.slice(6), 'csms-pass-999', 'query-secret-123', 'secondary-pass', 'mirror-secret', 'map-password-777', 'leak-me', 'token=', 'operator:']) {
      expect(everything).not.toContain(secret);
    }
  });
});
