import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runAdmission } from '../../../src/admission/chain.js';
import { EARLY_BYTES_MARGIN } from '../../../src/admission/pending-socket.js';
import { watchPendingCharger } from '../../../src/admission/steps/watch-pending-charger.js';
import { ErrorCode } from '../../../src/errors.js';
import { MemoryBudget } from '../../../src/mirror/memory-budget.js';
import { fakeHandshake } from '../fake-handshake.js';

describe('watchPendingCharger', () => {
  it('keeps up to one frame and the margin before the 101', async () => {
    const { handshake, socket } = fakeHandshake();
    await watchPendingCharger(100)(handshake, handshake.signal);
    const read = once(socket, 'data');
    socket.write(Buffer.alloc(100 + EARLY_BYTES_MARGIN));
    await read;
    expect(socket.destroyed).toBe(false);
    expect(handshake.upgradeHead()).toHaveLength(100 + EARLY_BYTES_MARGIN);
  });

  it('drops the charger one byte past that', async () => {
    const { handshake, socket } = fakeHandshake();
    await watchPendingCharger(100)(handshake, handshake.signal);
    socket.write(Buffer.alloc(100 + EARLY_BYTES_MARGIN + 1));
    await once(socket, 'close');
    expect(handshake.signal.aborted).toBe(true);
  });
});

describe('watchPendingCharger with a budget for every pending charger (max_pending_handshake_bytes)', () => {
  it('takes early bytes from the budget, and gives them back with the upgrade head', async () => {
    const budget = new MemoryBudget(1000);
    const { handshake, socket } = fakeHandshake();
    await runAdmission([watchPendingCharger(100_000, budget)], handshake, handshake.signal);
    const read = once(socket, 'data');
    socket.write(Buffer.alloc(600));
    await read;
    expect(budget.usedBytes).toBe(600);
    expect(handshake.upgradeHead()).toHaveLength(600);
    expect(budget.usedBytes).toBe(0);
  });

  it('refuses the charger whose bytes do not fit with 503, while the others keep theirs (issue 11, finding 1)', async () => {
    const budget = new MemoryBudget(1000);
    const first = fakeHandshake();
    const second = fakeHandshake();
    await runAdmission([watchPendingCharger(100_000, budget)], first.handshake, first.handshake.signal);
    await runAdmission([watchPendingCharger(100_000, budget)], second.handshake, second.handshake.signal);
    const firstRead = once(first.socket, 'data');
    first.socket.write(Buffer.alloc(600));
    await firstRead;
    const refused = new Promise<void>((resolve) => second.handshake.signal.addEventListener('abort', () => resolve()));
    second.socket.write(Buffer.alloc(600));
    await refused;
    expect(second.handshake.refusal).toMatchObject({
      code: ErrorCode.PendingBytesBudget,
      status: 503,
      headers: { 'Retry-After': '30' },
      log: { fields: { limit: 'max_pending_handshake_bytes', max_pending_handshake_bytes: 1000 } },
    });
    expect(first.handshake.signal.aborted).toBe(false);
    expect(budget.usedBytes).toBe(600);
    // The chain rejects with the budget's refusal, whatever the step that was waiting makes of the abort.
    const waiting = (_handshake: unknown, signal: AbortSignal): Promise<void> =>
      signal.aborted ? Promise.reject(new Error('aborted')) : new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    await expect(runAdmission([waiting], second.handshake, second.handshake.signal)).rejects.toBe(second.handshake.refusal);
    second.handshake.upgradeHead();
    first.handshake.upgradeHead();
    expect(budget.usedBytes).toBe(0);
  });

  it('counts the upgrade head too', async () => {
    const budget = new MemoryBudget(100);
    const { handshake } = fakeHandshake({}, Buffer.alloc(101));
    await expect(runAdmission([watchPendingCharger(100_000, budget)], handshake, handshake.signal)).rejects.toMatchObject({
      code: ErrorCode.PendingBytesBudget,
    });
    expect(budget.usedBytes).toBe(0);
  });
});
