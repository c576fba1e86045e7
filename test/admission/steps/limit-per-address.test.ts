import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AddressCounter } from '../../../src/admission/address-counter.js';
import { runAdmission } from '../../../src/admission/chain.js';
import { limitPerAddress } from '../../../src/admission/steps/limit-per-address.js';
import { ErrorCode } from '../../../src/errors.js';
import { fakeHandshake, VALID_UPGRADE_HEADERS } from '../fake-handshake.js';

/** Behind a reverse proxy at 10.0.0.2, a client at `forwardedFor`. */
function admit(counter: AddressCounter, forwardedFor: string) {
  const { handshake, socket } = fakeHandshake(
    { remoteAddress: '10.0.0.2', headers: { ...VALID_UPGRADE_HEADERS, 'x-forwarded-for': forwardedFor } },
    undefined,
    { trustProxy: true },
  );
  return { socket, admission: runAdmission([limitPerAddress(counter)], handshake, handshake.signal) };
}

describe('limitPerAddress (trust_proxy)', () => {
  it('counts the X-Forwarded-For address, not the reverse proxy, and refuses past the limit with 503', async () => {
    const counter = new AddressCounter(1);
    await admit(counter, '198.51.100.1').admission;
    await admit(counter, '198.51.100.2').admission;
    await expect(admit(counter, 'forged, 198.51.100.1').admission).rejects.toMatchObject({
      code: ErrorCode.TooManyFromAddress,
      status: 503,
      headers: { 'Retry-After': '30' },
      log: { fields: { limit: 'max_connections_per_ip', max_connections_per_ip: 1 }, throttled: true },
    });
    expect(counter.count('10.0.0.2')).toBe(0);
  });

  it('lets the address go when the connection closes', async () => {
    const counter = new AddressCounter(1);
    const first = admit(counter, '198.51.100.1');
    await first.admission;
    first.socket.destroy();
    await once(first.socket, 'close');
    await expect(admit(counter, '198.51.100.1').admission).resolves.toBeUndefined();
  });
});
