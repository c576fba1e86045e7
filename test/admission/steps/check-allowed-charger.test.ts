import { describe, expect, it } from 'vitest';
import { runAdmission } from '../../../src/admission/chain.js';
import { IdPatterns } from '../../../src/admission/id-patterns.js';
import { checkAllowedCharger } from '../../../src/admission/steps/check-allowed-charger.js';
import { identifyCharger } from '../../../src/admission/steps/identify-charger.js';
import { ErrorCode } from '../../../src/errors.js';
import { fakeHandshake } from '../fake-handshake.js';

function admit(patterns: readonly string[], url: string) {
  const { handshake } = fakeHandshake({ url });
  return runAdmission([identifyCharger, checkAllowedCharger(new IdPatterns(patterns))], handshake, handshake.signal);
}

describe('checkAllowedCharger', () => {
  it('lets through ids matching allowed_chargers, * included', async () => {
    await expect(admit(['CP-*', 'GARAGE'], '/ocpp/CP-17')).resolves.toBeUndefined();
    await expect(admit(['CP-*', 'GARAGE'], '/ocpp/GARAGE')).resolves.toBeUndefined();
  });

  it('refuses any other id with 404, logged (throttled) without anything the charger could choose but its id', async () => {
    await expect(admit(['CP-*', 'GARAGE'], '/ocpp/XX-1')).rejects.toMatchObject({
      code: ErrorCode.ChargerUnknown,
      status: 404,
      reason: 'unknown charge point id',
      headers: {},
      log: { level: 'warn', message: 'charger refused: id not in allowed_chargers', throttled: true, fields: { status: 404 } },
    });
  });
});
