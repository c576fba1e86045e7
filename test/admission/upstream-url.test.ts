import { describe, expect, it } from 'vitest';
import { buildUpstreamUrl } from '../../src/admission/upstream-url.js';

describe('buildUpstreamUrl', () => {
  it.each([
    ['wss://csms.example.com/ocpp', 'CP-1', 'wss://csms.example.com/ocpp/CP-1'],
    ['wss://csms.example.com/ocpp/', 'CP-1', 'wss://csms.example.com/ocpp/CP-1'],
    ['wss://csms.example.com', 'CP-1', 'wss://csms.example.com/CP-1'],
    ['ws://10.0.0.1:8180/steve/websocket/CentralSystemService', 'CP-1', 'ws://10.0.0.1:8180/steve/websocket/CentralSystemService/CP-1'],
    ['wss://csms.example.com/ocpp?tenant=7&x=y', 'CP-1', 'wss://csms.example.com/ocpp/CP-1?tenant=7&x=y'],
    ['wss://csms.example.com/ocpp', 'a%2Ab', 'wss://csms.example.com/ocpp/a%2Ab'],
    ['wss://csms.example.com/ocpp', 'a|b@c', 'wss://csms.example.com/ocpp/a|b@c'],
  ])('%s + %s → %s', (endpoint, segment, expected) => {
    expect(buildUpstreamUrl(endpoint, segment, true)).toBe(expected);
  });

  it('keeps the endpoint as it is when appending is off', () => {
    expect(buildUpstreamUrl('wss://csms.example.com/ocpp/CP-1?k=v', 'ignored', false)).toBe('wss://csms.example.com/ocpp/CP-1?k=v');
  });

  it('keeps userinfo in the dialled URL (it is redacted only in logs)', () => {
    expect(buildUpstreamUrl('wss://u:p@csms.example.com/ocpp', 'CP-1', true)).toBe('wss://u:p@csms.example.com/ocpp/CP-1');
  });
});
