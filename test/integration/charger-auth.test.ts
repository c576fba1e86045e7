/**
 * Issue 11, item 3 (charger authentication at the proxy) and item 8 / finding 6 (a client that is not the
 * charger took over a live id when the primary did not authenticate), with real sockets on loopback:
 * `charger_auth: local | both | passthrough`, `chargers` with scrypt hashes, `allowed_chargers` patterns.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/admission/password-hash.js';
import { handshakeResult } from '../../src/admin/observer.js';
import { channels, type HandshakeMessage } from '../../src/diagnostics/channels.js';
import { ErrorCode } from '../../src/errors.js';
import { THROTTLED_LOG_INTERVAL_MS } from '../../src/logging/log-throttle.js';
import {
  answers16,
  closeAll,
  connectRawCharger,
  exchange,
  ocpp16,
  onCleanup,
  roundTrip,
  startProxy,
  startRawCsms,
  upgradeStatus,
  type StartedProxy,
} from '../support/harness.js';

afterEach(closeAll);

const PASSWORD = 'cp1-AuthorizationKey-0123';
const FAILED = 'charger authentication failed';
const CHALLENGE = 'Basic realm="ocpp-splitter"';

const basic = (user: string, password: string): Record<string, string> => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** Node's scrypt defaults, as `ocpp-splitter hash-password` writes them: the real cost. */
const chargers = async (): Promise<Array<{ id: string; password_hash: string }>> => [{ id: 'CP-1', password_hash: await hashPassword(Buffer.from(PASSWORD)) }];

function recordHandshakes(): HandshakeMessage[] {
  const seen: HandshakeMessage[] = [];
  onCleanup(channels.handshake.subscribe((message) => seen.push(message)));
  return seen;
}

/** No line the proxy wrote holds a password or the hash. */
function expectNoSecretsIn(proxy: StartedProxy, ...secrets: string[]): void {
  const text = proxy.logs.raw.join('');
  for (const secret of [PASSWORD, ...secrets]) expect(text).not.toContain(secret);
}

describe('charger_auth: local', () => {
  it('admits a charger with its id and password; the primary gets no Authorization header (the credentials stay here)', async () => {
    const csms = await startRawCsms({ answer: answers16(1) });
    const proxy = await startProxy(csms.url, { charger_auth: 'local', chargers: await chargers() });
    const charger = await connectRawCharger(proxy.url('/CP-1'), ['ocpp1.6'], { headers: basic('CP-1', PASSWORD) });
    await exchange(charger, ocpp16.boot('b1'));
    expect(csms.requests).toHaveLength(1);
    expect(csms.requests[0]?.headers.authorization).toBeUndefined();
    expectNoSecretsIn(proxy, proxy.config.chargers[0]?.password_hash ?? '');
  });

  it('refuses a wrong password with 401 and a Basic challenge before dialling: the primary sees no connection', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { charger_auth: 'local', chargers: await chargers() });
    const handshakes = recordHandshakes();
    const refused = await upgradeStatus(proxy.url('/CP-1'), ['ocpp1.6'], basic('CP-1', 'not-the-password'));
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(CHALLENGE);
    expect(await proxy.logs.waitFor(FAILED)).toMatchObject({
      level: 'warn',
      tag: 'CP-1',
      status: 401,
      reason: 'wrong password',
      remote_address: '127.0.0.1',
      id_connected: false,
    });
    expect(csms.requests).toEqual([]);
    expect(handshakes.filter((message) => message.code === ErrorCode.ChargerUnauthorized)).toMatchObject([{ outcome: 'refused', status: 401, chargerId: 'CP-1' }]);
    expect(handshakeResult('refused', ErrorCode.ChargerUnauthorized)).toBe('unauthorized');
    expectNoSecretsIn(proxy, 'not-the-password');
  });

  it('refuses a user name that is not the charge point id with 401 (security profiles 1 and 2)', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { charger_auth: 'local', chargers: await chargers() });
    expect((await upgradeStatus(proxy.url('/CP-1'), ['ocpp1.6'], basic('CP-2', PASSWORD))).status).toBe(401);
    expect(await proxy.logs.waitFor(FAILED)).toMatchObject({ reason: 'user name is not the charge point id' });
    expect(csms.requests).toEqual([]);
  });

  it('refuses a malformed Authorization header, and none at all, with 401', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { charger_auth: 'local', chargers: await chargers() });
    for (const authorization of ['Basic %%%', 'Bearer token', `Basic ${Buffer.from('CP-1').toString('base64')}`]) {
      const refused = await upgradeStatus(proxy.url('/CP-1'), ['ocpp1.6'], { Authorization: authorization });
      expect(refused.status, authorization).toBe(401);
      expect(refused.headers['www-authenticate']).toBe(CHALLENGE);
    }
    expect((await upgradeStatus(proxy.url('/CP-1'))).status).toBe(401);
    expect(csms.requests).toEqual([]);
  });

  it('refuses ids outside allowed_chargers with 404, and an allowed id without a chargers entry with 401', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { charger_auth: 'local', chargers: await chargers(), allowed_chargers: ['CP-*', 'GARAGE'] });
    const handshakes = recordHandshakes();
    for (const id of ['XX-1', 'cp-1', 'GARAGE-2']) expect((await upgradeStatus(proxy.url(`/${id}`), ['ocpp1.6'], basic(id, PASSWORD))).status, id).toBe(404);
    expect(await proxy.logs.waitFor('charger refused: id not in allowed_chargers')).toMatchObject({ status: 404, remote_address: '127.0.0.1' });
    expect(handshakes.filter((message) => message.code === ErrorCode.ChargerUnknown)).toHaveLength(3);
    expect(handshakeResult('refused', ErrorCode.ChargerUnknown)).toBe('unknown_charger');

    expect((await upgradeStatus(proxy.url('/CP-9'), ['ocpp1.6'], basic('CP-9', PASSWORD))).status).toBe(401);
    expect(csms.requests).toEqual([]);
    await connectRawCharger(proxy.url('/CP-1'), ['ocpp1.6'], { headers: basic('CP-1', PASSWORD) });
    expect(csms.requests).toHaveLength(1);
  });

  it('bounds password checks under a flood of bad passwords: the excess gets 503 with Retry-After, the primary is never dialled, the log stays short', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { charger_auth: 'local', chargers: await chargers() });
    const FLOOD = 100;
    const started = Date.now();
    const attempts: Array<Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>> = [];
    for (let i = 0; i < FLOOD; i += 1) attempts.push(upgradeStatus(proxy.url('/CP-1'), ['ocpp1.6'], basic('CP-1', `guess-${i}`)));
    // The event loop keeps serving while the checks run on the thread pool.
    const health = await fetch(`http://127.0.0.1:${proxy.port}/healthz`);
    expect(health.status).toBe(200);
    const results = await Promise.all(attempts);

    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status !== 401 && status !== 503)).toEqual([]);
    const busy = results.filter((result) => result.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const result of busy) expect(result.headers['retry-after']).toBe('30');
    expect(statuses.filter((status) => status === 401).length).toBeGreaterThanOrEqual(2 + 32);
    expect(csms.requests).toEqual([]);
    // One line per kind of refusal and interval (throttled), not one per attempt.
    const maxLines = 1 + Math.floor((Date.now() - started) / THROTTLED_LOG_INTERVAL_MS);
    expect(proxy.logs.lines.filter((line) => line.msg === FAILED).length).toBeLessThanOrEqual(maxLines);
    const limitLines = proxy.logs.lines.filter((line) => line.msg === 'connection refused by a limit' && line.limit === 'password_checks');
    expect(limitLines.length).toBeGreaterThanOrEqual(1);
    expect(limitLines.length).toBeLessThanOrEqual(maxLines);
    expect(limitLines[0]).toMatchObject({ status: 503, remote_address: '127.0.0.1', running: 2, waiting: 32 });

    // Once the flood is over, the charger itself gets in.
    await connectRawCharger(proxy.url('/CP-1'), ['ocpp1.6'], { headers: basic('CP-1', PASSWORD) });
    expect(csms.requests).toHaveLength(1);
  });
});

describe('a replacement must authenticate like any connection (issue 11, item 8 and finding 6)', () => {
  it('with a primary that does not authenticate, a client without the password cannot take over a live id: the old session stays, the newcomer gets 401, the log says from where', async () => {
    // The raw CSMS accepts every upgrade: a primary that checks no password.
    const csms = await startRawCsms({ answer: answers16(1) });
    const proxy = await startProxy(csms.url, { charger_auth: 'local', chargers: await chargers() });
    const charger = await connectRawCharger(proxy.url('/CP-1'), ['ocpp1.6'], { headers: basic('CP-1', PASSWORD) });
    await proxy.logs.waitFor('session started');
    const session = proxy.proxy.sessions.get('CP-1');

    const intruder = await upgradeStatus(proxy.url('/CP-1'));
    expect(intruder.status).toBe(401);
    expect(await proxy.logs.waitFor(FAILED)).toMatchObject({ tag: 'CP-1', remote_address: '127.0.0.1', id_connected: true, reason: 'no credentials' });
    const guesser = await upgradeStatus(proxy.url('/CP-1'), ['ocpp1.6'], basic('CP-1', 'a-guess'));
    expect(guesser.status).toBe(401);

    // CP-1 is untouched: same session, its one primary connection, traffic flowing.
    expect(proxy.proxy.sessions.get('CP-1')).toBe(session);
    await exchange(charger, ocpp16.heartbeat('h1'));
    await roundTrip(charger);
    expect(csms.requests).toHaveLength(1);
    expect(proxy.logs.lines.some((line) => line.msg === 'charge point id already connected: the older connection is replaced')).toBe(false);

    // The charger itself, reconnecting with its password, still replaces its old session.
    const again = await connectRawCharger(proxy.url('/CP-1'), ['ocpp1.6'], { headers: basic('CP-1', PASSWORD) });
    expect((await charger.closed).code).toBe(1001);
    await exchange(again, ocpp16.heartbeat('h2'));
  });
});

describe('charger_auth: both', () => {
  it('checks locally, then the primary decides with the charger\'s Authorization header: its refusal reaches the charger', async () => {
    const csms = await startRawCsms({ refuseWith: { status: 403 } });
    const proxy = await startProxy(csms.url, { charger_auth: 'both', chargers: await chargers() });
    expect((await upgradeStatus(proxy.url('/CP-1'), ['ocpp1.6'], basic('CP-1', 'wrong'))).status).toBe(401);
    expect(csms.requests).toEqual([]);

    expect((await upgradeStatus(proxy.url('/CP-1'), ['ocpp1.6'], basic('CP-1', PASSWORD))).status).toBe(403);
    expect(csms.requests).toHaveLength(1);
    expect(csms.requests[0]?.headers.authorization).toBe(basic('CP-1', PASSWORD).Authorization);
  });

  it('admits the charger when both agree', async () => {
    const csms = await startRawCsms({ answer: answers16(1) });
    const proxy = await startProxy(csms.url, { charger_auth: 'both', chargers: await chargers() });
    const charger = await connectRawCharger(proxy.url('/CP-1'), ['ocpp1.6'], { headers: basic('CP-1', PASSWORD) });
    await exchange(charger, ocpp16.boot('b1'));
    expect(csms.requests[0]?.headers.authorization).toBe(basic('CP-1', PASSWORD).Authorization);
  });
});

describe('charger_auth: passthrough (the default)', () => {
  it('is unchanged: no check at the proxy, the Authorization header goes to the primary, whose refusal reaches the charger', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url);
    expect(proxy.config.charger_auth).toBe('passthrough');
    await connectRawCharger(proxy.url('/CP-1'), ['ocpp1.6'], { headers: basic('CP-1', 'anything') });
    await connectRawCharger(proxy.url('/CP-2'));
    expect(csms.requests.map((request) => request.headers.authorization)).toEqual([basic('CP-1', 'anything').Authorization, undefined]);

    const refusing = await startRawCsms({ refuseWith: { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="csms"' } } });
    const behind = await startProxy(refusing.url);
    const refused = await upgradeStatus(behind.url('/CP-1'), ['ocpp1.6'], basic('CP-1', 'wrong'));
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Basic realm="csms"');
  });

  it('still refuses ids outside allowed_chargers with 404 before dialling', async () => {
    const csms = await startRawCsms();
    const proxy = await startProxy(csms.url, { allowed_chargers: ['CP-*'] });
    expect((await upgradeStatus(proxy.url('/XX-1'))).status).toBe(404);
    expect(csms.requests).toEqual([]);
    await connectRawCharger(proxy.url('/CP-1'));
    expect(csms.requests).toHaveLength(1);
  });
});
