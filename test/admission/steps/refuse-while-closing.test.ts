import { describe, expect, it } from 'vitest';
import { UpgradeRefusal } from '../../../src/admission/refusal.js';
import { refuseWhileClosing } from '../../../src/admission/steps/refuse-while-closing.js';
import { ErrorCode } from '../../../src/errors.js';
import { fakeHandshake } from '../fake-handshake.js';

describe('refuseWhileClosing', () => {
  it('lets chargers through while the proxy accepts them', async () => {
    const { handshake } = fakeHandshake();
    await expect(Promise.resolve(refuseWhileClosing(() => true)(handshake, handshake.signal))).resolves.toBeUndefined();
  });

  it('refuses with 503, unlogged, once it does not', () => {
    const { handshake } = fakeHandshake();
    let accepting = true;
    const step = refuseWhileClosing(() => accepting);
    accepting = false;
    const refusal = catchRefusal(() => step(handshake, handshake.signal));
    expect(refusal).toMatchObject({ code: ErrorCode.ProxyClosed, status: 503, reason: 'proxy is shutting down', log: undefined });
  });
});

function catchRefusal(run: () => unknown): UpgradeRefusal {
  try {
    run();
  } catch (error) {
    if (error instanceof UpgradeRefusal) return error;
    throw error;
  }
  throw new Error('the step did not refuse');
}
