import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runAdmission } from '../../../src/admission/chain.js';
import { OpenSockets } from '../../../src/admission/open-sockets.js';
import { identifyCharger } from '../../../src/admission/steps/identify-charger.js';
import { limitChargers } from '../../../src/admission/steps/limit-chargers.js';
import { ErrorCode } from '../../../src/errors.js';
import { fakeHandshake } from '../fake-handshake.js';

function admit(step: ReturnType<typeof limitChargers>, url: string) {
  const { handshake, socket } = fakeHandshake({ url, remoteAddress: '192.0.2.7' });
  return { socket, admission: runAdmission([identifyCharger, step], handshake, handshake.signal) };
}

describe('limitChargers', () => {
  it('lets `max` charger connections through, refuses the next with 503 and Retry-After, throttled', async () => {
    const chargers = new OpenSockets();
    const step = limitChargers({ max: 2, isConnected: () => false, chargers });
    await admit(step, '/CP-1').admission;
    await admit(step, '/CP-2').admission;
    expect(chargers.size).toBe(2);
    await expect(admit(step, '/CP-3').admission).rejects.toMatchObject({
      code: ErrorCode.TooManyConnections,
      status: 503,
      headers: { 'Retry-After': '30' },
      log: { level: 'warn', message: 'connection refused by a limit', throttled: true, fields: { limit: 'max_connections', max_connections: 2 } },
    });
    expect(chargers.size).toBe(2);
  });

  it('counts a connection until its socket closes, whichever way it goes', async () => {
    const chargers = new OpenSockets();
    const step = limitChargers({ max: 1, isConnected: () => false, chargers });
    const first = admit(step, '/CP-1');
    await first.admission;
    await expect(admit(step, '/CP-2').admission).rejects.toMatchObject({ code: ErrorCode.TooManyConnections });
    first.socket.destroy();
    await once(first.socket, 'close');
    expect(chargers.size).toBe(0);
    await expect(admit(step, '/CP-2').admission).resolves.toBeUndefined();
  });

  it('always lets a charger through whose id is connected: it replaces its own session', async () => {
    const chargers = new OpenSockets();
    const step = limitChargers({ max: 1, isConnected: (identity) => identity === 'CP-1', chargers });
    await admit(step, '/CP-1').admission;
    await expect(admit(step, '/CP-1').admission).resolves.toBeUndefined();
    await expect(admit(step, '/CP-2').admission).rejects.toMatchObject({ code: ErrorCode.TooManyConnections });
  });
});
