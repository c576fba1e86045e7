import { describe, expect, it } from 'vitest';
import { runAdmission } from '../../../src/admission/chain.js';
import { ChargerPasswords, type ChargerPasswordsOptions } from '../../../src/admission/charger-passwords.js';
import { hashPassword, parsePasswordHash, type PasswordHash } from '../../../src/admission/password-hash.js';
import { authenticateCharger, BASIC_CHALLENGE } from '../../../src/admission/steps/authenticate-charger.js';
import { identifyCharger } from '../../../src/admission/steps/identify-charger.js';
import { ErrorCode } from '../../../src/errors.js';
import { fakeHandshake, VALID_UPGRADE_HEADERS } from '../fake-handshake.js';

const CHEAP = { cost: 1024, blockSize: 1, parallelization: 1 };
const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;

async function hashOf(password: string): Promise<PasswordHash> {
  const parsed = parsePasswordHash(await hashPassword(Buffer.from(password), CHEAP));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.hash;
}

async function stepFor(options: ChargerPasswordsOptions = {}, connected: readonly string[] = []) {
  const passwords = new ChargerPasswords(new Map([['CP-1', await hashOf('right-password')]]), options);
  return authenticateCharger({ passwords, isConnected: (identity) => connected.includes(identity) });
}

function admit(step: Awaited<ReturnType<typeof stepFor>>, url: string, authorization?: string) {
  const headers = authorization === undefined ? VALID_UPGRADE_HEADERS : { ...VALID_UPGRADE_HEADERS, authorization };
  const { handshake } = fakeHandshake({ url, headers, remoteAddress: '192.0.2.7' });
  return { handshake, admission: runAdmission([identifyCharger, step], handshake, handshake.signal) };
}

/** The refusal every authentication failure gets: one body, a Basic challenge, a throttled warning saying why. */
function unauthorized(why: string, idConnected = false) {
  return {
    code: ErrorCode.ChargerUnauthorized,
    status: 401,
    reason: 'authentication failed',
    headers: { 'WWW-Authenticate': BASIC_CHALLENGE },
    log: { level: 'warn', message: 'charger authentication failed', throttled: true, fields: { status: 401, reason: why, id_connected: idConnected } },
  };
}

describe('authenticateCharger', () => {
  it('lets a charger through whose user name is its id and whose password matches its hash', async () => {
    const step = await stepFor();
    await expect(admit(step, '/ocpp/CP-1', basic('CP-1:right-password')).admission).resolves.toBeUndefined();
  });

  it('refuses with 401 and a Basic challenge: no credentials, a wrong password, another user name, an id without an entry', async () => {
    const step = await stepFor();
    await expect(admit(step, '/ocpp/CP-1').admission).rejects.toMatchObject(unauthorized('no credentials'));
    await expect(admit(step, '/ocpp/CP-1', basic('CP-1:wrong-password')).admission).rejects.toMatchObject(unauthorized('wrong password'));
    await expect(admit(step, '/ocpp/CP-1', basic('CP-2:right-password')).admission).rejects.toMatchObject(unauthorized('user name is not the charge point id'));
    await expect(admit(step, '/ocpp/CP-2', basic('CP-2:right-password')).admission).rejects.toMatchObject(unauthorized('no chargers entry for this charge point id'));
  });

  it('refuses a malformed Authorization header with 401', async () => {
    const step = await stepFor();
    for (const header of ['Basic !!!', 'Bearer abc', basic('CP-1')]) {
      await expect(admit(step, '/ocpp/CP-1', header).admission, header).rejects.toMatchObject(unauthorized('malformed Authorization header'));
    }
  });

  it('compares the user name exactly (case matters, as for the id)', async () => {
    const step = await stepFor();
    await expect(admit(step, '/ocpp/CP-1', basic('cp-1:right-password')).admission).rejects.toMatchObject(unauthorized('user name is not the charge point id'));
  });

  it('says in the log line that the id has a live session: a failed attempt to take it over (issue 11, finding 6)', async () => {
    const step = await stepFor({}, ['CP-1']);
    await expect(admit(step, '/ocpp/CP-1', basic('CP-1:guess')).admission).rejects.toMatchObject(unauthorized('wrong password', true));
  });

  it('never puts the password in the refusal', async () => {
    const step = await stepFor();
    const refusal: unknown = await admit(step, '/ocpp/CP-1', basic('CP-1:hunter2-secret')).admission.catch((error: unknown) => error);
    expect(JSON.stringify(refusal, Object.getOwnPropertyNames(refusal as object))).not.toContain('hunter2');
  });

  it('refuses with 503 and Retry-After, throttled, when too many checks run and wait', async () => {
    const held: Array<(accepted: boolean) => void> = [];
    const verify = (): Promise<boolean> => new Promise((resolve) => held.push(resolve));
    const step = await stepFor({ maxRunning: 1, maxWaiting: 0, verify });
    const first = admit(step, '/ocpp/CP-1', basic('CP-1:a'));
    await expect(admit(step, '/ocpp/CP-1', basic('CP-1:b')).admission).rejects.toMatchObject({
      code: ErrorCode.TooManyPasswordChecks,
      status: 503,
      headers: { 'Retry-After': '30' },
      log: { message: 'connection refused by a limit', throttled: true, fields: { limit: 'password_checks', running: 1, waiting: 0 } },
    });
    held.shift()?.(true);
    await expect(first.admission).resolves.toBeUndefined();
  });

  it('dials nothing for a charger that left while its password was checked, even the right one', async () => {
    const held: Array<(accepted: boolean) => void> = [];
    const verify = (): Promise<boolean> => new Promise((resolve) => held.push(resolve));
    const step = await stepFor({ verify });
    const leaving = admit(step, '/ocpp/CP-1', basic('CP-1:right-password'));
    await expect.poll(() => held.length).toBe(1);
    leaving.handshake.cancel();
    held.shift()?.(true);
    await expect(leaving.admission).rejects.toMatchObject({ code: ErrorCode.HandshakeAborted });
  });

  it('gives up a check the charger left before its turn came', async () => {
    const held: Array<(accepted: boolean) => void> = [];
    const verify = (): Promise<boolean> => new Promise((resolve) => held.push(resolve));
    const step = await stepFor({ maxRunning: 1, verify });
    const first = admit(step, '/ocpp/CP-1', basic('CP-1:a'));
    const leaving = admit(step, '/ocpp/CP-1', basic('CP-1:b'));
    leaving.handshake.cancel();
    await expect(leaving.admission).rejects.toMatchObject({ code: ErrorCode.HandshakeAborted, log: { level: 'info' } });
    held.shift()?.(false);
    await expect(first.admission).rejects.toMatchObject({ code: ErrorCode.ChargerUnauthorized });
    expect(held).toEqual([]);
  });
});
