import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkUpgradeRequest, parseSubprotocols } from '../../src/admission/upgrade-request.js';

function request(method: string, headers: Record<string, string>): IncomingMessage {
  // Only `method` and `headers` are read; an object literal stands in for the rest.
  return { method, headers } as unknown as IncomingMessage;
}

const VALID = {
  upgrade: 'websocket',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

describe('parseSubprotocols', () => {
  it('keeps the charger’s order of preference', () => {
    expect(parseSubprotocols('ocpp2.0.1, ocpp1.6,ocpp2.1')).toEqual(['ocpp2.0.1', 'ocpp1.6', 'ocpp2.1']);
  });
  it('an absent header offers nothing', () => {
    expect(parseSubprotocols(undefined)).toEqual([]);
  });
  it.each(['', 'ocpp1.6,', 'ocpp1.6,,ocpp2.0.1', 'ocpp 1.6', 'ocpp1.6, ocpp1.6', 'ocpp1.6;q=1'])('rejects %j', (header) => {
    expect(parseSubprotocols(header)).toBeUndefined();
  });
});

describe('checkUpgradeRequest', () => {
  it('accepts a valid upgrade and returns the offered protocols', () => {
    expect(checkUpgradeRequest(request('GET', { ...VALID, 'sec-websocket-protocol': 'ocpp1.6' }))).toEqual({ ok: true, subprotocols: ['ocpp1.6'] });
  });
  it.each([
    ['POST', VALID, 405],
    ['GET', { ...VALID, upgrade: 'h2c' }, 400],
    ['GET', { ...VALID, 'sec-websocket-key': 'short' }, 400],
    ['GET', { upgrade: 'websocket', 'sec-websocket-version': '13' }, 400],
    ['GET', { ...VALID, 'sec-websocket-version': '8' }, 426],
    ['GET', { ...VALID, 'sec-websocket-protocol': 'ocpp1.6,,x' }, 400],
  ])('%s %j → %i', (method, headers, status) => {
    const result = checkUpgradeRequest(request(method, headers));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.status).toBe(status);
  });
});
