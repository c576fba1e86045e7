import { describe, expect, it } from 'vitest';
import { forwardedClientAddress, pathForLog } from '../../src/admission/client-address.js';

describe('forwardedClientAddress', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['198.51.100.1, 192.0.2.7', '192.0.2.7'],
    ['spoofed, 192.0.2.7', '192.0.2.7'],
    [' 2001:db8::1 ', '2001:db8::1'],
    ['192.0.2.7:4711', '192.0.2.7'],
    ['[2001:db8::1]:4711', '2001:db8::1'],
    [['198.51.100.1', '192.0.2.7'], '192.0.2.7'],
  ])('%j → %s (the entry the nearest proxy added)', (header, address) => {
    expect(forwardedClientAddress(header)).toBe(address);
  });

  it.each([[undefined], [''], ['unknown'], ['192.0.2.7, '], ['<script>'], ['192.0.2.7:x'], ['[192.0.2.7]:1']])('%j → none', (header) => {
    expect(forwardedClientAddress(header)).toBeUndefined();
  });
});

describe('pathForLog', () => {
  it.each([
    ['/ocpp/CP-1', '/ocpp/CP-1'],
    ['/ocpp/CP-1?token=secret', '/ocpp/CP-1'],
    ['/CP%201?x=1#y', '/CP%201'],
    ['/CP-1#frag', '/CP-1'],
    ['ws://user:pass@host:9000/ocpp/CP-1?token=secret', '/ocpp/CP-1'],
    ['http://host', '/'],
    [undefined, '/'],
  ])('%j → %j', (url, path) => {
    expect(pathForLog(url)).toBe(path);
  });

  it('bounds a long path', () => {
    const path = pathForLog(`/${'a'.repeat(5000)}`);
    expect(path.length).toBeLessThanOrEqual(257);
    expect(path.endsWith('…')).toBe(true);
  });
});
