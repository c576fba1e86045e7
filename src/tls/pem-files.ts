/**
 * Reading the PEM files the configuration names (certificates, chains, CA bundles, private keys) and checking
 * them as a TLS library would use them, so that a wrong file is a start-up error naming the option, the file
 * and what is wrong with it, not a charger handshake failing hours later.
 *
 * Never puts the content of a file (a private key!) in an error message.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ConfigError, ErrorCode } from '../errors.js';

/** One PEM certificate block; a chain or a CA bundle is several. */
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** How a file is read; injectable for tests. */
export type ReadFile = (path: string) => Buffer;

export const readFileBytes: ReadFile = (path) => readFileSync(path);

/** A file named by an option, e.g. `{ option: 'tls_cert_file', path: '/ssl/fullchain.pem' }`. */
export interface NamedFile {
  /** The option as the user wrote it: `tls_cert_file`, `secondary_csms[1].ca_file`. */
  readonly option: string;
  readonly path: string;
}

/** What a certificate says about itself, for the log line that says which one is in use (nothing secret). */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly valid_to: string;
  readonly fingerprint256: string;
}

/**
 * Reads a file of PEM certificates: one certificate, a chain (leaf first) or a CA bundle.
 * @throws ConfigError (TlsFileInvalid) when it cannot be read, holds no certificate, or one does not parse.
 */
export function readCertificates(file: NamedFile, readFile: ReadFile = readFileBytes): { readonly pem: Buffer; readonly certificates: readonly X509Certificate[] } {
  const pem = readNamedFile(file, readFile);
  const blocks = pem.toString('latin1').match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw invalid(file, 'it holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  const certificates = blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw invalid(file, `certificate ${index + 1} of ${blocks.length} does not parse (${reasonOf(error)})`, error);
    }
  });
  return { pem, certificates };
}

/**
 * Reads a PEM private key (PKCS#8, PKCS#1 or SEC1; not encrypted: the proxy has no passphrase to give).
 * @throws ConfigError (TlsFileInvalid) when it cannot be read or is not a usable private key.
 */
export function readPrivateKey(file: NamedFile, readFile: ReadFile = readFileBytes): Buffer {
  const pem = readNamedFile(file, readFile);
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem.toString('latin1'))) {
    throw invalid(file, 'the private key is encrypted: give the proxy an unencrypted key file, readable only by the user it runs as');
  }
  try {
    createPrivateKey(pem);
  } catch (error) {
    throw invalid(file, `it holds no usable PEM private key (${reasonOf(error)})`, error);
  }
  return pem;
}

/**
 * Builds a secure context from material read by the functions above, which is where OpenSSL finds what they
 * cannot see alone: a certificate whose public key is not the private key's.
 * @throws ConfigError (TlsFileInvalid) naming both files when they do not belong together.
 */
export function secureContextOf(
  parts: { readonly cert?: Buffer; readonly key?: Buffer; readonly ca?: Buffer },
  files: { readonly cert?: NamedFile; readonly key?: NamedFile },
): SecureContext {
  try {
    return createSecureContext({ cert: parts.cert, key: parts.key, ca: parts.ca });
  } catch (error) {
    const { cert, key } = files;
    const which = cert !== undefined && key !== undefined ? `${cert.option} (${cert.path}) and ${key.option} (${key.path})` : 'the TLS files';
    throw new ConfigError(ErrorCode.TlsFileInvalid, `${which}: not usable together: ${reasonOf(error)} (is the key the one of this certificate?)`, { cause: error });
  }
}

export function summarise(certificate: X509Certificate): CertificateSummary {
  return {
    subject: oneLine(certificate.subject),
    issuer: oneLine(certificate.issuer),
    valid_to: new Date(certificate.validTo).toISOString(),
    fingerprint256: certificate.fingerprint256,
  };
}

function readNamedFile(file: NamedFile, readFile: ReadFile): Buffer {
  try {
    return readFile(file.path);
  } catch (error) {
    throw invalid(file, `cannot read it: ${reasonOf(error)}`, error);
  }
}

function invalid(file: NamedFile, problem: string, cause?: unknown): ConfigError {
  return new ConfigError(ErrorCode.TlsFileInvalid, `${file.option}: ${file.path}: ${problem}`, cause === undefined ? undefined : { cause });
}

/** The first line of an error's message: OpenSSL's and the file system's say what is wrong without quoting the file. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? '').trim();
}

/** X509Certificate writes a subject with several attributes on several lines. */
function oneLine(text: string): string {
  return text.split('\n').filter((part) => part !== '').join(', ');
}
