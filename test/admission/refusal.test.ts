import { describe, expect, it } from 'vitest';
import { chargerRefused, NoCommonSubprotocol, UpgradeRefusal } from '../../src/admission/refusal.js';
import { ErrorCode, OcppSplitterError } from '../../src/errors.js';

describe('UpgradeRefusal', () => {
  it('is a catalog error carrying the HTTP answer', () => {
    const refusal = new UpgradeRefusal(ErrorCode.PrimaryRefused, { status: 401, reason: 'refused by the CSMS', headers: { 'WWW-Authenticate': 'Basic' } });
    expect(refusal).toBeInstanceOf(OcppSplitterError);
    expect(refusal).toMatchObject({ name: 'UpgradeRefusal', code: 'OCPP_SPLITTER_ERR_PRIMARY_REFUSED', status: 401, reason: 'refused by the CSMS' });
    expect(refusal.headers).toEqual({ 'WWW-Authenticate': 'Basic' });
    expect(refusal.log).toBeUndefined();
    expect(refusal.message).toBe('upgrade refused with 401: refused by the CSMS');
  });

  it('has no headers unless given', () => {
    expect(new UpgradeRefusal(ErrorCode.ProxyClosed, { status: 503, reason: 'proxy is shutting down' }).headers).toEqual({});
  });

  it('chargerRefused logs as "charger refused" with the status and reason', () => {
    const refusal = chargerRefused(ErrorCode.UpgradeInvalid, 426, 'unsupported WebSocket version', { 'Sec-WebSocket-Version': '13' });
    expect(refusal.log).toEqual({ level: 'warn', message: 'charger refused', fields: { status: 426, reason: 'unsupported WebSocket version' } });
    expect(refusal.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
  });
});

describe('NoCommonSubprotocol', () => {
  it('names what the charger offered', () => {
    const error = new NoCommonSubprotocol(['ocpp2.0.1', 'ocpp1.6']);
    expect(error).toMatchObject({ code: ErrorCode.NoCommonSubprotocol, offered: ['ocpp2.0.1', 'ocpp1.6'] });
    expect(error.message).toContain('ocpp2.0.1, ocpp1.6');
  });
});
