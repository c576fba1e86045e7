/**
 * The TLS files a configuration names are read once, at start, and a file that cannot be used stops the start
 * with one line naming the option and the file (exit 78), never a key's content.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import { ConfigError, ErrorCode } from '../../src/errors.js';
import { createProxy } from '../../src/proxy.js';
import { EXIT_CONFIG, explainStartupFailure } from '../../src/startup-failure.js';
import { checkTlsFiles } from '../../src/tls/check-tls-files.js';
import { readServerCredentials, serverTlsFiles } from '../../src/tls/server-tls.js';
import { readUpstreamTls } from '../../src/tls/upstream-tls.js';
import { createTestPki, type TestPki } from '../support/certificates.js';
import { captureLogs } from '../support/harness.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.remove());

function config(overrides: Partial<Record<keyof Config, unknown>>): Config {
  return configSchema.parse({ primary_csms_url: 'wss://csms.example.com/ocpp', port: 0, admin_port: 0, ...overrides });
}

/** The ConfigError `action` throws. */
function errorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the listener\'s certificate, key and client CA', () => {
  it('reads a full chain and its key, and keeps the leaf for the log', () => {
    const server = pki.issue('files-server', { cn: 'localhost', usage: 'server' });
    const files = serverTlsFiles(config({ tls_cert_file: server.cert, tls_key_file: server.key }));
    expect(files).toBeDefined();
    const credentials = readServerCredentials(files!);
    expect(credentials.leaf.subject).toBe('CN=localhost');
    expect(credentials.cert.toString()).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('names the option and the file when one is missing, holds no certificate, or the key is another certificate\'s', () => {
    const server = pki.issue('files-server-2', { cn: 'localhost', usage: 'server' });
    const other = pki.issue('files-other', { cn: 'localhost', usage: 'server' });
    const notPem = join(pki.dir, 'not-a-certificate.txt');
    writeFileSync(notPem, 'hello\n');
    const cases: Array<[Partial<Record<keyof Config, unknown>>, RegExp]> = [
      [{ tls_cert_file: join(pki.dir, 'missing.pem'), tls_key_file: server.key }, /^tls_cert_file: .*missing\.pem: cannot read it: ENOENT/],
      [{ tls_cert_file: notPem, tls_key_file: server.key }, /^tls_cert_file: .*: it holds no PEM certificate/],
      [{ tls_cert_file: server.cert, tls_key_file: server.cert }, /^tls_key_file: .*: it holds no usable PEM private key/],
      [{ tls_cert_file: server.cert, tls_key_file: other.key }, /^tls_cert_file \(.*\) and tls_key_file \(.*\): not usable together: .*mismatch/],
      [{ tls_cert_file: server.cert, tls_key_file: server.key, tls_ca_file: notPem, tls_client_auth: 'require' }, /^tls_ca_file: .*: it holds no PEM certificate/],
    ];
    for (const [overrides, message] of cases) {
      const error = errorOf(() => checkTlsFiles(config(overrides)));
      expect(error.code, JSON.stringify(overrides)).toBe(ErrorCode.TlsFileInvalid);
      expect(error.message, JSON.stringify(overrides)).toMatch(message);
      expect(error.message).not.toContain('PRIVATE KEY');
    }
  });

  it('refuses an encrypted key, which the proxy has no passphrase for', () => {
    const server = pki.issue('files-encrypted', { cn: 'localhost', usage: 'server' });
    const encrypted = join(pki.dir, 'encrypted.key');
    writeFileSync(encrypted, '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n');
    expect(errorOf(() => checkTlsFiles(config({ tls_cert_file: server.cert, tls_key_file: encrypted }))).message).toMatch(/^tls_key_file: .*: the private key is encrypted/);
  });

  it('createProxy reads them (so an unusable file fails the start), and the start-up line exits 78 with the error\'s message', () => {
    const logs = captureLogs();
    const bad = config({ tls_cert_file: join(pki.dir, 'nope.pem'), tls_key_file: join(pki.dir, 'nope.key') });
    const error = errorOf(() => createProxy(bad, { logger: logs.logger }));
    expect(explainStartupFailure(error, { port: 0, host: undefined, dataDir: pki.dir })).toEqual({ message: error.message, exitCode: EXIT_CONFIG });
  });
});

describe('an upstream\'s CA, client certificate and key', () => {
  it('is read into one secure context; nothing at all when every option is default', () => {
    const client = pki.issue('files-proxy-client', { cn: 'ocpp-splitter', usage: 'client' });
    expect(readUpstreamTls({ ca: undefined, cert: undefined, key: undefined, rejectUnauthorized: true })).toBeUndefined();
    expect(readUpstreamTls({ ca: undefined, cert: undefined, key: undefined, rejectUnauthorized: false })).toEqual({ secureContext: undefined, rejectUnauthorized: false });
    const tls = readUpstreamTls({
      ca: { option: 'primary_csms_ca_file', path: pki.ca.cert },
      cert: { option: 'primary_csms_cert_file', path: client.cert },
      key: { option: 'primary_csms_key_file', path: client.key },
      rejectUnauthorized: true,
    });
    expect(tls?.secureContext).toBeDefined();
  });

  it('names a secondary\'s option by its place in the list', () => {
    const client = pki.issue('files-proxy-client-2', { cn: 'ocpp-splitter', usage: 'client' });
    const other = pki.issue('files-proxy-other', { cn: 'ocpp-splitter', usage: 'client' });
    const secondaries = [{ url: 'wss://a.example.com/ocpp' }, { url: 'wss://b.example.com/ocpp', cert_file: client.cert, key_file: other.key }];
    const error = errorOf(() => checkTlsFiles(config({ secondary_csms: secondaries })));
    expect(error.message).toMatch(/^secondary_csms\[1\]\.cert_file \(.*\) and secondary_csms\[1\]\.key_file \(.*\): not usable together/);
    const missing = errorOf(() => checkTlsFiles(config({ primary_csms_ca_file: join(pki.dir, 'gone.pem') })));
    expect(missing.message).toMatch(/^primary_csms_ca_file: .*gone\.pem: cannot read it/);
  });
});
