import { describe, expect, it } from 'vitest';
import { describeTlsFailure } from '../../src/tls/charger-listener.js';

function failure(code: string): Error & { code: string } {
  return Object.assign(new Error(code), { code });
}

describe('describeTlsFailure', () => {
  it('says what a failed TLS handshake probably means, in the operator\'s words', () => {
    expect(describeTlsFailure(failure('ERR_SSL_HTTP_REQUEST'))).toBe('plain HTTP on the TLS port: the client must connect with wss://');
    expect(describeTlsFailure(failure('ERR_SSL_UNSUPPORTED_PROTOCOL'))).toBe('the client offered no TLS version from 1.2 on');
    expect(describeTlsFailure(failure('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'))).toBe('the client offered no TLS version from 1.2 on');
    expect(describeTlsFailure(failure('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('not TLS: the client speaks another protocol');
    expect(describeTlsFailure(failure('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'))).toMatch(/^the client does not trust this certificate/);
    expect(describeTlsFailure(failure('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'))).toMatch(/^the client does not trust this certificate/);
    expect(describeTlsFailure(failure('ERR_SSL_NO_SHARED_CIPHER'))).toBe('no cipher suite in common with the client');
    expect(describeTlsFailure(failure('ERR_SOMETHING_ELSE'))).toBe('the TLS handshake failed');
  });

  it('is no news when the client left, or the connection guard closed it (counted there)', () => {
    expect(describeTlsFailure(failure('ECONNRESET'))).toBeUndefined();
    expect(describeTlsFailure(failure('EPIPE'))).toBeUndefined();
  });
});
