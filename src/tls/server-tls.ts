/**
 * The chargers' side of TLS: what the proxy's listener needs to speak `wss://` (OCPP security profiles 2 and 3),
 * read from the files `tls_cert_file`, `tls_key_file` and `tls_ca_file` name.
 */
import type { X509Certificate } from 'node:crypto';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { Config } from '../config/schema.js';
import { readCertificates, readFileBytes, readPrivateKey, secureContextOf, type NamedFile, type ReadFile } from './pem-files.js';

/** OCPP (1.6 Security Whitepaper, 2.0.1 Part 2 A00.FR.303): TLS 1.2 or later; 1.0 and 1.1 are refused in the handshake. */
export const MIN_TLS_VERSION = 'TLSv1.2';

export type ClientAuth = Config['tls_client_auth'];

/** The files of the listener's TLS, as the options name them. */
export interface ServerTlsFiles {
  readonly cert: NamedFile;
  readonly key: NamedFile;
  /** The CA that issued the chargers' client certificates (security profile 3). */
  readonly ca: NamedFile | undefined;
}

/** What was read from {@link ServerTlsFiles}: PEM bytes as they are in the files, checked to work together. */
export interface ServerCredentials {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
  /** The leaf certificate, first in `tls_cert_file`: what the log says is in use. */
  readonly leaf: X509Certificate;
}

/** The files the configuration names, or undefined when the listener speaks plain `ws://` (no `tls_cert_file`). */
export function serverTlsFiles(config: Readonly<Config>): ServerTlsFiles | undefined {
  const certFile = config.tls_cert_file;
  const keyFile = config.tls_key_file;
  // The schema refuses one without the other.
  if (certFile === undefined || keyFile === undefined) return undefined;
  return {
    cert: { option: 'tls_cert_file', path: certFile },
    key: { option: 'tls_key_file', path: keyFile },
    ca: config.tls_ca_file === undefined ? undefined : { option: 'tls_ca_file', path: config.tls_ca_file },
  };
}

/**
 * Reads and checks the listener's certificate (with its chain), key and client CA.
 * @throws ConfigError (TlsFileInvalid) naming the option and the file.
 */
export function readServerCredentials(files: ServerTlsFiles, readFile: ReadFile = readFileBytes): ServerCredentials {
  const { pem: cert, certificates } = readCertificates(files.cert, readFile);
  const key = readPrivateKey(files.key, readFile);
  const ca = files.ca === undefined ? undefined : readCertificates(files.ca, readFile).pem;
  secureContextOf({ cert, key, ca }, { cert: files.cert, key: files.key });
  // readCertificates found at least one.
  const [leaf] = certificates;
  if (leaf === undefined) throw new Error('readCertificates returned no certificate');
  return { cert, key, ca, leaf };
}

/** The secure context's part of the listener's options: what `server.setSecureContext()` replaces on a reload. */
export function secureContextOptions(credentials: ServerCredentials): SecureContextOptions {
  return { cert: credentials.cert, key: credentials.key, ca: credentials.ca, minVersion: MIN_TLS_VERSION };
}

/**
 * The listener's TLS options. A client certificate is asked for (`request`, `require`) but never checked by
 * the TLS layer itself (`rejectUnauthorized: false`): the admission step checks it, so that a charger without
 * one, or with one that does not fit, is refused with an HTTP status and a log line naming it — and
 * `/healthz` still answers a client without a certificate.
 */
export function serverTlsOptions(credentials: ServerCredentials, clientAuth: ClientAuth): TlsOptions {
  return { ...secureContextOptions(credentials), requestCert: clientAuth !== 'none', rejectUnauthorized: false };
}
