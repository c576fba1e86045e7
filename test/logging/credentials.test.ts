/**
 * The one redaction rule of logs and the dashboard: a frame that may carry a credential, in any shape, is
 * withheld whole; ordinary traffic is not.
 */
import { describe, expect, it } from 'vitest';
import { mayCarryCredentials } from '../../src/logging/credentials.js';

describe('mayCarryCredentials', () => {
  it.each([
    ['a sensitive action by its head', '[2,"1","ChangeConfiguration",{"key":"X","value":"1"}]', 'ChangeConfiguration'],
    ['a sensitive action under an invalid message id', '[2,"","ChangeConfiguration",{"key":"AuthorizationKey","value":"00112233"}]', undefined],
    ['an answer that names AuthorizationKey', '[3,"9",{"configurationKey":[{"key":"AuthorizationKey","readonly":false,"value":"00112233"}]}]', undefined],
    ['a URL with a user and password in a value', '[3,"9",{"configurationKey":[{"key":"CsmsUrl","value":"wss://CP-1:S3CRET@csms.example/ocpp"}]}]', undefined],
    ['a key name written with JSON escapes', '[3,"9",{"configurationKey":[{"key":"Authorization\\u004bey","value":"00112233"}]}]', undefined],
    ['a password in a DataTransfer', '[2,"c2","DataTransfer",{"vendorId":"x","data":"{\\"password\\":\\"hunter2\\"}"}]', 'DataTransfer'],
    ['an API key', '[2,"c3","DataTransfer",{"vendorId":"x","data":"{\\"apiKey\\":\\"k\\"}"}]', 'DataTransfer'],
  ])('withholds %s', (_what, frame, action) => {
    expect(mayCarryCredentials(frame, action)).toBe(true);
    expect(mayCarryCredentials(Buffer.from(frame), action)).toBe(true);
  });

  it.each([
    ['a heartbeat', '[2,"1","Heartbeat",{}]', 'Heartbeat'],
    ['meter values', '[2,"2","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00Z","sampledValue":[{"value":"1"}]}]}]', 'MeterValues'],
    ['a 2.0.1 authorize with its idToken', '[2,"3","Authorize",{"idToken":{"idToken":"04A2B3","type":"ISO14443"}}]', 'Authorize'],
    ['a URL without credentials', '[3,"9",{"configurationKey":[{"key":"CsmsUrl","value":"wss://csms.example:443/ocpp"}]}]', undefined],
  ])('shows %s', (_what, frame, action) => {
    expect(mayCarryCredentials(frame, action)).toBe(false);
  });
});

describe('mayCarryCredentials on large frames', () => {
  it('reads a 4 MiB frame full of URLs in linear time (regression: a pattern backtracked for seconds)', () => {
    const frame = `[2,"1","DataTransfer",{"vendorId":"x","data":"${'ws://a'.repeat(700_000)}"}]`;
    const started = performance.now();
    expect(mayCarryCredentials(frame, 'DataTransfer')).toBe(false);
    // Generous: the quadratic version needed seconds at 40 KB already.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
