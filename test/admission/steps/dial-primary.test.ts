import { describe, expect, it } from 'vitest';
import { runAdmission } from '../../../src/admission/chain.js';
import { NoCommonSubprotocol } from '../../../src/admission/refusal.js';
import { dialPrimary, type DialPrimaryOptions } from '../../../src/admission/steps/dial-primary.js';
import { checkUpgrade } from '../../../src/admission/steps/check-upgrade.js';
import { identifyCharger } from '../../../src/admission/steps/identify-charger.js';
import { ErrorCode } from '../../../src/errors.js';
import type { DialOptions, DialOutcome } from '../../../src/links/dial.js';
import { fakeHandshake, fakePrimarySocket, VALID_UPGRADE_HEADERS } from '../fake-handshake.js';

const OPTIONS: DialPrimaryOptions = {
  endpoint: 'wss://operator:pass@csms.example/ocpp?token=secret',
  appendIdentity: true,
  timeoutMs: 7_000,
  maxPayload: 65_536,
  perMessageDeflate: true,
};

/** Runs the steps before dialPrimary, then dialPrimary with a dial that answers `outcome`. */
function admitWith(outcome: DialOutcome, request: Parameters<typeof fakeHandshake>[0] = {}) {
  const dialled: DialOptions[] = [];
  const dial = (options: DialOptions): Promise<DialOutcome> => {
    dialled.push(options);
    return Promise.resolve(outcome);
  };
  const { handshake } = fakeHandshake({ url: '/ocpp/CP%7c1', ...request });
  const admission = runAdmission([checkUpgrade, identifyCharger, dialPrimary({ ...OPTIONS, dial })], handshake, handshake.signal);
  return { handshake, admission, dialled };
}

describe('dialPrimary', () => {
  it('dials the endpoint with the identity (canonically percent-encoded), the charger’s sub-protocols and Authorization, and its signal', async () => {
    const { socket } = fakePrimarySocket();
    const { handshake, admission, dialled } = admitWith(
      { kind: 'open', socket, subprotocol: 'ocpp1.6' },
      { headers: { ...VALID_UPGRADE_HEADERS, authorization: 'Basic Q1AtMTpzZWNyZXQ=' } },
    );
    await admission;
    expect(dialled).toEqual([
      {
        url: 'wss://operator:pass@csms.example/ocpp/CP%7C1?token=secret',
        subprotocols: ['ocpp2.0.1', 'ocpp1.6'],
        headers: { Authorization: 'Basic Q1AtMTpzZWNyZXQ=' },
        timeoutMs: 7_000,
        maxPayload: 65_536,
        perMessageDeflate: true,
        signal: handshake.signal,
      },
    ]);
    expect(handshake.primary).toEqual({ socket, subprotocol: 'ocpp1.6', urlForLog: 'wss://csms.example/ocpp/CP%7C1' });
  });

  it('sends no Authorization header when the charger sent none', async () => {
    const { admission, dialled } = admitWith({ kind: 'open', socket: fakePrimarySocket().socket, subprotocol: 'ocpp1.6' });
    await admission;
    expect(dialled[0]?.headers).toEqual({});
  });

  it('keeps the charger\'s Authorization from the primary with forwardAuthorization: false (charger_auth: local)', async () => {
    const dialled: DialOptions[] = [];
    const dial = (options: DialOptions): Promise<DialOutcome> => {
      dialled.push(options);
      return Promise.resolve({ kind: 'open', socket: fakePrimarySocket().socket, subprotocol: 'ocpp1.6' });
    };
    const { handshake } = fakeHandshake({ url: '/ocpp/CP-1', headers: { ...VALID_UPGRADE_HEADERS, authorization: 'Basic Q1AtMTpzZWNyZXQ=' } });
    await runAdmission([checkUpgrade, identifyCharger, dialPrimary({ ...OPTIONS, forwardAuthorization: false, dial })], handshake, handshake.signal);
    expect(dialled[0]?.headers).toEqual({});
  });

  it('terminates the open primary when the handshake is abandoned', async () => {
    const { socket, terminate } = fakePrimarySocket();
    const { handshake, admission } = admitWith({ kind: 'open', socket, subprotocol: 'ocpp1.6' });
    await admission;
    expect(terminate).not.toHaveBeenCalled();
    handshake.abandon();
    expect(terminate).toHaveBeenCalledOnce();
  });

  it('passes the primary’s refusal on: its status, WWW-Authenticate and Retry-After', async () => {
    const { admission } = admitWith({ kind: 'refused', status: 401, headers: { wwwAuthenticate: 'Basic realm="csms"', retryAfter: '30' } });
    await expect(admission).rejects.toMatchObject({
      code: ErrorCode.PrimaryRefused,
      status: 401,
      reason: 'refused by the CSMS',
      headers: { 'WWW-Authenticate': 'Basic realm="csms"', 'Retry-After': '30' },
      log: { level: 'warn', message: 'primary refused the connection', fields: { primary: 'wss://csms.example/ocpp/CP%7C1', status: 401 } },
    });
  });

  it('passes no headers the primary did not send', async () => {
    const { admission } = admitWith({ kind: 'refused', status: 404, headers: {} });
    await expect(admission).rejects.toMatchObject({ status: 404, headers: {} });
  });

  it('answers 502 when the primary is unreachable, keeping the cause', async () => {
    const cause = new Error('connect ECONNREFUSED');
    const { admission } = admitWith({ kind: 'unreachable', error: cause });
    await expect(admission).rejects.toMatchObject({
      code: ErrorCode.PrimaryUnreachable,
      status: 502,
      reason: 'CSMS unreachable',
      cause,
      log: { level: 'warn', message: 'primary unreachable', fields: { error: 'connect ECONNREFUSED' } },
    });
  });

  it('answers 504 when the primary does not answer in time', async () => {
    const { admission } = admitWith({ kind: 'timeout' });
    await expect(admission).rejects.toMatchObject({
      code: ErrorCode.PrimaryTimeout,
      status: 504,
      log: { level: 'warn', message: 'primary handshake timed out', fields: { timeout_ms: 7_000 } },
    });
  });

  it('answers 503 (logged at info) when the handshake was aborted', async () => {
    const { admission } = admitWith({ kind: 'aborted' });
    await expect(admission).rejects.toMatchObject({
      code: ErrorCode.HandshakeAborted,
      status: 503,
      log: { level: 'info', message: 'charger left before the primary answered' },
    });
  });

  it('reports no common sub-protocol as its own outcome, with what the charger offered', async () => {
    const { admission } = admitWith({ kind: 'no-common-subprotocol' });
    const error: unknown = await admission.catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(NoCommonSubprotocol);
    expect(error).toMatchObject({ offered: ['ocpp2.0.1', 'ocpp1.6'] });
  });
});
