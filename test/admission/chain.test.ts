import { describe, expect, it } from 'vitest';
import { runAdmission, type AdmissionStep } from '../../src/admission/chain.js';
import { UpgradeRefusal } from '../../src/admission/refusal.js';
import { ErrorCode } from '../../src/errors.js';
import { fakeHandshake } from './fake-handshake.js';

describe('runAdmission', () => {
  it('runs synchronous and asynchronous steps in order, each with the handshake and the signal', async () => {
    const { handshake } = fakeHandshake();
    const signal = new AbortController().signal;
    const seen: string[] = [];
    const step =
      (name: string): AdmissionStep =>
      (received, receivedSignal) => {
        expect(received).toBe(handshake);
        expect(receivedSignal).toBe(signal);
        seen.push(name);
      };
    const slow: AdmissionStep = async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      seen.push('slow');
    };
    await runAdmission([step('a'), slow, step('b')], handshake, signal);
    expect(seen).toEqual(['a', 'slow', 'b']);
  });

  it('stops at the first refusal and rejects with it', async () => {
    const { handshake } = fakeHandshake();
    const refusal = new UpgradeRefusal(ErrorCode.UpgradeInvalid, { status: 400, reason: 'no' });
    const seen: string[] = [];
    const refuse: AdmissionStep = () => {
      throw refusal;
    };
    await expect(runAdmission([() => void seen.push('a'), refuse, () => void seen.push('b')], handshake, handshake.signal)).rejects.toBe(refusal);
    expect(seen).toEqual(['a']);
  });

  it('a refusal made from outside the running step (a limit reached while it waits) wins, and stops the chain', async () => {
    const { handshake } = fakeHandshake();
    const budget = new UpgradeRefusal(ErrorCode.PendingBytesBudget, { status: 503, reason: 'budget' });
    const later = new UpgradeRefusal(ErrorCode.TooManyConnections, { status: 503, reason: 'later' });
    const seen: string[] = [];
    const waits: AdmissionStep = (_handshake, signal) =>
      new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    const refuseMidway: AdmissionStep = (received) => {
      received.refuse(budget);
      received.refuse(later);
    };
    await expect(runAdmission([refuseMidway, () => void seen.push('next')], handshake, handshake.signal)).rejects.toBe(budget);
    expect(seen).toEqual([]);
    const other = fakeHandshake().handshake;
    const admission = runAdmission([waits], other, other.signal);
    other.refuse(budget);
    await expect(admission).rejects.toBe(budget);
  });

  it('an empty chain admits', async () => {
    const { handshake } = fakeHandshake();
    await expect(runAdmission([], handshake, handshake.signal)).resolves.toBeUndefined();
  });
});
