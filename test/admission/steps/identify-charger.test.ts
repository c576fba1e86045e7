import { describe, expect, it } from 'vitest';
import { runAdmission } from '../../../src/admission/chain.js';
import { identifyCharger } from '../../../src/admission/steps/identify-charger.js';
import { ErrorCode } from '../../../src/errors.js';
import { fakeHandshake } from '../fake-handshake.js';

describe('identifyCharger', () => {
  it('sets the decoded identity and the raw segment', async () => {
    const { handshake } = fakeHandshake({ url: '/ocpp/a%2Ab?x=1' });
    await runAdmission([identifyCharger], handshake, handshake.signal);
    expect(handshake.charger).toEqual({ identity: 'a*b', rawSegment: 'a%2Ab' });
  });

  it('refuses a URL without an identity with 400, logged as "charger refused"', async () => {
    const { handshake } = fakeHandshake({ url: '/ocpp/' });
    await expect(runAdmission([identifyCharger], handshake, handshake.signal)).rejects.toMatchObject({
      code: ErrorCode.IdentityInvalid,
      status: 400,
      reason: 'no charge point identity in the URL path',
      log: { level: 'warn', message: 'charger refused', fields: { status: 400 } },
    });
    expect(handshake.knownIdentity).toBeUndefined();
  });
});
