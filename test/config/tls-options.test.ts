/**
 * The rules between the TLS options: nothing half set (a certificate without its key), nothing that would check
 * nothing (a client CA without client certificates asked for), no TLS option on a ws:// URL. Each error names
 * the option as the user wrote it.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';

const PRIMARY = 'wss://csms.example.com/ocpp';

/** The one-line errors resolveConfig reports for a config file holding `file`. */
function errorsFor(file: Record<string, unknown>, env: Record<string, string> = {}): string[] {
  try {
    resolveConfig({ flags: { config: 'config.json' }, env, readFile: () => JSON.stringify({ primary_csms_url: PRIMARY, ...file }) });
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

describe('the listener\'s TLS options', () => {
  it('default to plain ws://, no client certificates, the CN bound to the id', () => {
    const config = configSchema.parse({ primary_csms_url: PRIMARY });
    expect(config).toMatchObject({ tls_client_auth: 'none', tls_client_identity: 'cn' });
    expect(config.tls_cert_file).toBeUndefined();
  });

  it('accept profile 2 (certificate and key) and profile 3 (and a client CA, request or require)', () => {
    expect(errorsFor({ tls_cert_file: '/ssl/fullchain.pem', tls_key_file: '/ssl/privkey.pem' })).toEqual([]);
    for (const mode of ['request', 'require']) {
      expect(errorsFor({ tls_cert_file: '/c.pem', tls_key_file: '/k.pem', tls_ca_file: '/ca.pem', tls_client_auth: mode })).toEqual([]);
    }
  });

  it('refuse a certificate without its key, and a key without its certificate', () => {
    expect(errorsFor({ tls_cert_file: '/ssl/fullchain.pem' })).toEqual([
      'invalid configuration: tls_key_file (config.json): missing; tls_cert_file is set, so the private key of that certificate is needed too',
    ]);
    expect(errorsFor({ tls_key_file: '/ssl/privkey.pem' })).toEqual([
      'invalid configuration: tls_cert_file (config.json): missing; tls_key_file is set, so the certificate it belongs to is needed too',
    ]);
  });

  it('refuse client certificates without TLS, without a CA, and a CA that would check nothing', () => {
    expect(errorsFor({ tls_ca_file: '/ca.pem', tls_client_auth: 'require' })).toContain(
      'invalid configuration: tls_cert_file (config.json): missing; client certificates (tls_ca_file, tls_client_auth) need TLS: set tls_cert_file and tls_key_file',
    );
    expect(errorsFor({ tls_cert_file: '/c.pem', tls_key_file: '/k.pem', tls_client_auth: 'require' })).toEqual([
      'invalid configuration: tls_ca_file (config.json): missing; tls_client_auth is require, so the CA that issues the chargers\' certificates is needed',
    ]);
    expect(errorsFor({ tls_cert_file: '/c.pem', tls_key_file: '/k.pem', tls_ca_file: '/ca.pem' })).toEqual([
      'invalid configuration: tls_client_auth (config.json): missing; tls_ca_file is set, so set request or require (or remove tls_ca_file): with none it would check nothing',
    ]);
    expect(errorsFor({ tls_cert_file: '/c.pem', tls_key_file: '/k.pem', tls_client_auth: 'optional' })[0]).toBe(
      'invalid configuration: tls_client_auth="optional" (config.json): expected one of none, request, require',
    );
  });
});

describe('the upstreams\' TLS options', () => {
  it('default to checking each certificate, and need a client certificate\'s key', () => {
    const config = configSchema.parse({ primary_csms_url: PRIMARY, secondary_csms: [{ url: 'wss://b.example.com' }] });
    expect(config.primary_csms_reject_unauthorized).toBe(true);
    expect(config.secondary_csms[0]?.reject_unauthorized).toBe(true);
    expect(errorsFor({ primary_csms_cert_file: '/proxy.pem' })).toEqual([
      'invalid configuration: primary_csms_key_file (config.json): missing; primary_csms_cert_file is set, so the private key of that client certificate is needed too',
    ]);
    expect(errorsFor({ secondary_csms: [{ url: 'wss://b.example.com', key_file: '/proxy.key' }] })).toEqual([
      'invalid configuration: secondary_csms[0].cert_file (config.json): missing; key_file is set, so the client certificate it belongs to is needed too',
    ]);
  });

  it('are refused with a ws:// URL, where they would protect nothing, naming where the URL came from', () => {
    expect(errorsFor({ secondary_csms: [{ url: 'ws://b.example.com', ca_file: '/ca.pem', reject_unauthorized: false }] })).toEqual([
      'invalid configuration: secondary_csms[0].ca_file="/ca.pem" (config.json): applies to a wss:// URL only, and url is ws:// (no TLS): use wss:// or remove it',
      'invalid configuration: secondary_csms[0].reject_unauthorized=false (config.json): applies to a wss:// URL only, and url is ws:// (no TLS): use wss:// or remove it',
    ]);
    expect(errorsFor({ primary_csms_ca_file: '/ca.pem' }, { PRIMARY_CSMS_URL: 'ws://csms.local/ocpp' })).toEqual([
      'invalid configuration: primary_csms_ca_file="/ca.pem" (config.json): applies to a wss:// URL only, and primary_csms_url is ws:// (no TLS): use wss:// or remove it',
    ]);
  });
});
