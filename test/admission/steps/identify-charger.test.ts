import { describe, expect, it } from 'vitest';
import { runAdmission } from '../../../src/admission/chain.js';
import { identifyCharger } from '../../../src/admission/steps/identify-charger.js';
import { ErrorCode } from '../../../src/errors.js';
import { fakeHandshake } from '../fake-handshake.js';

describe('identifyCharger', () => {
  it('sets the decoded identity and its canonical URL segment', async () => {
    const { handshake } = fakeHandshake({ url: '/ocpp/a*b%7c1?x=1' });
    await runAdmission([identifyCharger], handshake, handshake.signal);
    expect(handshake.charger).toEqual({ identity: 'a*b|1', urlSegment: 'a*b%7C1' });
  });

  it('refuses an alias of an id (%43P-1 for CP-1) and a dot segment with 400 (issue 11, finding 3)', async () => {
    for (const url of ['/ocpp/%43P-1', '/ocpp/tenant7/..', '/ocpp/tenant7/%2e%2e']) {
      const { handshake } = fakeHandshake({ url });
      await expect(runAdmission([identifyCharger], handshake, handshake.signal), url).rejects.toMatchObject({ code: ErrorCode.IdentityInvalid, status: 400 });
    }
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
