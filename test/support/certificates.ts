/**
 * Real certificates for TLS tests, made by the `openssl` command line in a temporary directory: a CA, and
 * leaf certificates it issues (servers for 127.0.0.1 and localhost, clients with a chosen CN), or self-signed
 * ones. EC P-256 keys, so a whole set takes a few tens of milliseconds: make one set per test file
 * (`beforeAll`), and issue more where a test needs them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Days a test certificate is valid: long enough for any test run, short enough to be no use elsewhere. */
const VALID_DAYS = 2;
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export interface CertificateFiles {
  /** PEM certificate (for a leaf issued by the CA: the leaf, then the CA, as a full chain file is written). */
  readonly cert: string;
  readonly key: string;
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
}

export interface LeafOptions {
  readonly cn: string;
  /** 'server': subjectAltName IP:127.0.0.1, DNS:localhost, serverAuth; 'client': clientAuth. */
  readonly usage: 'server' | 'client';
}

export interface TestPki {
  readonly dir: string;
  /** The CA: `cert` is the file to give as a CA bundle. */
  readonly ca: CertificateFiles;
  /** A certificate issued by the CA, written as `<name>.pem` (leaf + CA) and `<name>.key`. */
  issue(name: string, options: LeafOptions): CertificateFiles;
  /** A certificate nobody issued (its own CA), written as `<name>.pem` and `<name>.key`. */
  selfSigned(name: string, options: LeafOptions): CertificateFiles;
  /** Removes the directory. */
  remove(): void;
}

/** Creates a CA in a fresh temporary directory. Throws when `openssl` is missing or fails. */
export function createTestPki(caName = 'ocpp-splitter test CA'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-pki-'));
  const path = (file: string): string => join(dir, file);
  const files = (name: string): CertificateFiles => ({
    cert: path(`${name}.pem`),
    key: path(`${name}.key`),
    get certPem() {
      return readFileSync(path(`${name}.pem`));
    },
    get keyPem() {
      return readFileSync(path(`${name}.key`));
    },
  });
  openssl(['req', '-x509', ...EC_KEY, '-keyout', path('ca.key'), '-out', path('ca.pem'), '-days', String(VALID_DAYS), '-subj', `/CN=${caName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const ca = files('ca');

  const leaf = (name: string, options: LeafOptions, issuer: 'ca' | 'self'): CertificateFiles => {
    const extensions = options.usage === 'server'
      ? ['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'extendedKeyUsage=serverAuth']
      : ['-addext', 'extendedKeyUsage=clientAuth'];
    const signer = issuer === 'ca' ? ['-CA', ca.cert, '-CAkey', path('ca.key'), '-addext', 'basicConstraints=CA:FALSE'] : [];
    const out = path(`${name}.leaf.pem`);
    openssl(['req', '-x509', ...EC_KEY, '-keyout', path(`${name}.key`), '-out', out, '-days', String(VALID_DAYS), '-subj', `/CN=${options.cn}`, ...signer, ...extensions]);
    // As a full-chain file is written (certbot's fullchain.pem): the leaf, then its issuer.
    writeFileSync(path(`${name}.pem`), issuer === 'ca' ? Buffer.concat([readFileSync(out), readFileSync(ca.cert)]) : readFileSync(out));
    return files(name);
  };

  return {
    dir,
    ca,
    issue: (name, options) => leaf(name, options, 'ca'),
    selfSigned: (name, options) => leaf(name, options, 'self'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
