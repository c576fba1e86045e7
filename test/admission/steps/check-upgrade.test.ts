import { describe, expect, it } from 'vitest';
import { runAdmission } from '../../../src/admission/chain.js';
import { checkUpgrade } from '../../../src/admission/steps/check-upgrade.js';
import { ErrorCode } from '../../../src/errors.js';
import { fakeHandshake, VALID_UPGRADE_HEADERS } from '../fake-handshake.js';

describe('checkUpgrade', () => {
  it('keeps the offered sub-protocols in the charger’s order', async () => {
    const { handshake } = fakeHandshake();
    await runAdmission([checkUpgrade], handshake, handshake.signal);
    expect(handshake.offeredSubprotocols).toEqual(['ocpp2.0.1', 'ocpp1.6']);
  });

  it('offers nothing when the charger offered nothing', async () => {
    const headers = { ...VALID_UPGRADE_HEADERS };
    delete headers['sec-websocket-protocol'];
    const { handshake } = fakeHandshake({ headers });
    await runAdmission([checkUpgrade], handshake, handshake.signal);
    expect(handshake.offeredSubprotocols).toEqual([]);
  });

  it('refuses a POST with 405, logged as "charger refused"', async () => {
    const { handshake } = fakeHandshake({ method: 'POST' });
    await expect(runAdmission([checkUpgrade], handshake, handshake.signal)).rejects.toMatchObject({
      code: ErrorCode.UpgradeInvalid,
      status: 405,
      log: { level: 'warn', message: 'charger refused', fields: { status: 405, reason: 'WebSocket upgrade must use GET' } },
    });
  });

  it('refuses an unsupported WebSocket version with 426 and the version it speaks', async () => {
    const { handshake } = fakeHandshake({ headers: { ...VALID_UPGRADE_HEADERS, 'sec-websocket-version': '8' } });
    await expect(runAdmission([checkUpgrade], handshake, handshake.signal)).rejects.toMatchObject({
      status: 426,
      headers: { 'Sec-WebSocket-Version': '13' },
    });
  });
});
