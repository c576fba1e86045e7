import { describe, expect, it } from 'vitest';
import { AddressCounter, addressBucket } from '../../src/admission/address-counter.js';

describe('addressBucket', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.7', '64:ff9b:0:0::/64'],
    ['not an address', 'not an address'],
  ])('%s counts as %s', (address, bucket) => {
    expect(addressBucket(address)).toBe(bucket);
  });

  it('puts every address of one IPv6 /64 in one bucket, and another /64 in another', () => {
    expect(addressBucket('2001:db8:1:2::a')).toBe(addressBucket('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(addressBucket('2001:db8:1:3::a')).not.toBe(addressBucket('2001:db8:1:2::a'));
  });
});

describe('AddressCounter', () => {
  it('lets `max` connections of one client through, then none until one is released', () => {
    const counter = new AddressCounter(2);
    const first = counter.tryAcquire('192.0.2.7');
    expect(counter.tryAcquire('192.0.2.7')).toBeDefined();
    expect(counter.tryAcquire('192.0.2.7')).toBeUndefined();
    expect(counter.tryAcquire('192.0.2.8')).toBeDefined();
    first?.();
    expect(counter.count('192.0.2.7')).toBe(1);
    expect(counter.tryAcquire('192.0.2.7')).toBeDefined();
  });

  it('counts an IPv6 client per /64: fresh addresses of the same prefix do not get around the limit', () => {
    const counter = new AddressCounter(1);
    expect(counter.tryAcquire('2001:db8:1:2::1')).toBeDefined();
    expect(counter.tryAcquire('2001:db8:1:2::2')).toBeUndefined();
  });

  it('releases once however often it is called, and forgets a client with nothing open', () => {
    const counter = new AddressCounter(3);
    const release = counter.tryAcquire('192.0.2.7');
    counter.tryAcquire('192.0.2.7');
    release?.();
    release?.();
    expect(counter.count('192.0.2.7')).toBe(1);
    expect(counter.clients).toBe(1);
    const other = new AddressCounter(3);
    other.tryAcquire('192.0.2.9')?.();
    expect(other.clients).toBe(0);
  });

  it('0 means no limit, and counts nothing', () => {
    const counter = new AddressCounter(0);
    for (let i = 0; i < 100; i += 1) expect(counter.tryAcquire('192.0.2.7')).toBeDefined();
    expect(counter.clients).toBe(0);
  });
});
