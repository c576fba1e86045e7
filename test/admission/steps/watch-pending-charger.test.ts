import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { EARLY_BYTES_MARGIN } from '../../../src/admission/pending-socket.js';
import { watchPendingCharger } from '../../../src/admission/steps/watch-pending-charger.js';
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
