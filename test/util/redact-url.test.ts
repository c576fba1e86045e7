import { describe, it, expect } from 'vitest';
import { redactUrl } from '../../src/util/redact-url.js';

describe('redactUrl', () => {
  it('leaves a URL without secrets exactly as written', () => {
    expect(redactUrl('wss://csms.example.com/ocpp')).toBe('wss://csms.example.com/ocpp');
    expect(redactUrl('ws://localhost:9000')).toBe('ws://localhost:9000');
    expect(redactUrl('WSS://Csms.Example.com:443/ocpp/CP-1')).toBe('WSS://Csms.Example.com:443/ocpp/CP-1');
  });

  it('removes user:password@', () => {
    expect(redactUrl('wss://user:s3cret@csms.example.com/ocpp')).toBe('wss://csms.example.com/ocpp');
    expect(redactUrl('wss://user@csms.example.com')).toBe('wss://csms.example.com');
  });

  it('removes the query string and the fragment', () => {
    expect(redactUrl('wss://csms.example.com/ocpp?token=abc&x=1')).toBe('wss://csms.example.com/ocpp');
    expect(redactUrl('wss://csms.example.com/ocpp#frag')).toBe('wss://csms.example.com/ocpp');
    expect(redactUrl('wss://u:p@csms.example.com/ocpp?token=abc#frag')).toBe('wss://csms.example.com/ocpp');
  });

  it('keeps an @ that is part of the path or query of a valid URL from eating the host', () => {
    expect(redactUrl('wss://csms.example.com/ocpp?email=a@b.example')).toBe('wss://csms.example.com/ocpp');
    expect(redactUrl('wss://csms.example.com/cp@site')).toBe('wss://csms.example.com/cp@site');
  });

  it('removes the last @ of the userinfo when the password holds an @', () => {
    expect(redactUrl('wss://user:p@ss@csms.example.com/ocpp')).toBe('wss://csms.example.com/ocpp');
  });

  it('works best-effort on strings that are not valid URLs', () => {
    // An unencoded '#' or '/' in the password makes the URL invalid.
    expect(redactUrl('wss://user:pa#ss@csms.example.com/ocpp')).toBe('wss://csms.example.com/ocpp');
    expect(redactUrl('wss://user:pa/ss@csms.example.com/ocpp')).toBe('wss://csms.example.com/ocpp');
    expect(redactUrl('//user:pw@host/x?y=1')).toBe('//host/x');
    expect(redactUrl('not a url?secret=1')).toBe('not a url');
    expect(redactUrl('')).toBe('');
  });

  it('never returns the password for a range of shapes', () => {
    const inputs = [
      'ws://admin:hunter2@10.0.0.1:9000/ocpp',
      'wss://admin:hunter2@[::1]:9000/ocpp',
      'wss://admin:hunter2@host',
      'wss://admin:hunter2@host?x=hunter2',
      'http://admin:hunter2@host/',
      'wss://admin:hun%40ter2@host',
      'garbage://admin:hunter2@',
      'wss://x/?hunter2',
      'wss://x/#hunter2',
    ];
    for (const input of inputs) expect(redactUrl(input)).not.toMatch(/hunter2|hun%40ter2/);
  });
});
