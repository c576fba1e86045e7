import { describe, expect, it } from 'vitest';
import { chargerAuthSteps } from '../../src/admission/charger-auth.js';
import { hashPassword } from '../../src/admission/password-hash.js';
import { ErrorCode } from '../../src/errors.js';

const CHEAP = { cost: 1024, blockSize: 1, parallelization: 1 };
const notConnected = (): boolean => false;

describe('chargerAuthSteps', () => {
  it('passthrough: no password check, the primary gets the Authorization header; an allow-list applies still', () => {
    expect(chargerAuthSteps({ charger_auth: 'passthrough', chargers: [], allowed_chargers: [] }, notConnected)).toEqual({
      checkId: [],
      authenticate: [],
      forwardAuthorizationToPrimary: true,
    });
    expect(chargerAuthSteps({ charger_auth: 'passthrough', chargers: [], allowed_chargers: ['CP-*'] }, notConnected).checkId).toHaveLength(1);
  });

  it('local: a password check, and the charger\'s credentials stay at the proxy; both: the primary gets them too', async () => {
    const chargers = [{ id: 'CP-1', password_hash: await hashPassword(Buffer.from('pw'), CHEAP) }];
    const local = chargerAuthSteps({ charger_auth: 'local', chargers, allowed_chargers: [] }, notConnected);
    expect([local.authenticate.length, local.forwardAuthorizationToPrimary]).toEqual([1, false]);
    const both = chargerAuthSteps({ charger_auth: 'both', chargers, allowed_chargers: [] }, notConnected);
    expect([both.authenticate.length, both.forwardAuthorizationToPrimary]).toEqual([1, true]);
  });

  it('parses every hash at start, naming a bad one by its place and never quoting it', () => {
    const chargers = [{ id: 'CP-1', password_hash: 'scrypt$16384$8$1$not-a-salt$zz' }];
    expect(() => chargerAuthSteps({ charger_auth: 'local', chargers, allowed_chargers: [] }, notConnected)).toThrow(
      expect.objectContaining({ code: ErrorCode.ConfigInvalid, message: expect.stringContaining('chargers[0].password_hash') as unknown }),
    );
    try {
      chargerAuthSteps({ charger_auth: 'local', chargers, allowed_chargers: [] }, notConnected);
    } catch (error) {
      expect(String(error)).not.toContain('not-a-salt');
    }
  });
});
