import { describe, expect, it } from 'vitest';
import { fitCloseReason, isRelayableCloseCode } from '../../src/links/close-codes.js';

describe('isRelayableCloseCode', () => {
  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999])('%i may be sent', (code) => {
    expect(isRelayableCloseCode(code)).toBe(true);
  });
  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000])('%i may not be sent', (code) => {
    expect(isRelayableCloseCode(code)).toBe(false);
  });
});

describe('fitCloseReason', () => {
  it('leaves a short reason alone', () => {
    expect(fitCloseReason('bye')).toBe('bye');
  });
  it('cuts to 123 bytes without splitting a multi-byte character', () => {
    const fitted = fitCloseReason('€'.repeat(100));
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(123);
    expect(fitted).toBe('€'.repeat(41));
  });
  it('does not leave half a surrogate pair', () => {
    const fitted = fitCloseReason('a' + '🚗'.repeat(40));
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(123);
    expect(fitted.endsWith('\ud83d')).toBe(false);
  });
});
