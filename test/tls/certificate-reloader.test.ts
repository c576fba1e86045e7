/**
 * Renewed certificates are taken without a restart; files that do not work together (a key that is not the
 * certificate's, a file half written) keep the certificate in use and say so once.
 */
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CertificateReloader } from '../../src/tls/certificate-reloader.js';
import { readServerCredentials, type ServerCredentials, type ServerTlsFiles } from '../../src/tls/server-tls.js';
import { createTestPki, type CertificateFiles, type TestPki } from '../support/certificates.js';
import { captureLogs, closeAll, onCleanup, temporaryDirectory } from '../support/harness.js';

afterEach(closeAll);

let pki: TestPki;
let first: CertificateFiles;
let second: CertificateFiles;
beforeAll(() => {
  pki = createTestPki();
  first = pki.issue('reload-first', { cn: 'localhost', usage: 'server' });
  second = pki.issue('reload-second', { cn: 'localhost', usage: 'server' });
});
afterAll(() => pki.remove());

/** Files in a directory of their own, as the proxy would be configured: the first certificate to begin with. */
function liveFiles(): ServerTlsFiles {
  const dir = temporaryDirectory('ocpp-splitter-live-');
  copyFileSync(first.cert, join(dir, 'fullchain.pem'));
  copyFileSync(first.key, join(dir, 'privkey.pem'));
  return { cert: { option: 'tls_cert_file', path: join(dir, 'fullchain.pem') }, key: { option: 'tls_key_file', path: join(dir, 'privkey.pem') }, ca: undefined };
}

/** Replaces a file the way renewal tools do: a new file renamed over the old one. */
function replace(path: string, content: Buffer | string): void {
  writeFileSync(`${path}.new`, content);
  renameSync(`${path}.new`, path);
}

function reloader(files: ServerTlsFiles, settleMs = 20): { reloader: CertificateReloader; applied: ServerCredentials[]; logs: ReturnType<typeof captureLogs> } {
  const logs = captureLogs();
  const applied: ServerCredentials[] = [];
  const instance = new CertificateReloader({ files, current: readServerCredentials(files), apply: (next) => applied.push(next), log: logs.logger, settleMs });
  onCleanup(() => instance.close());
  return { reloader: instance, applied, logs };
}

describe('CertificateReloader', () => {
  it('puts renewed files in use, and does nothing while they stay the same', () => {
    const files = liveFiles();
    const { reloader: subject, applied, logs } = reloader(files);
    expect(subject.check()).toBe('unchanged');
    replace(files.cert.path, readFileSync(second.cert));
    replace(files.key.path, readFileSync(second.key));
    expect(subject.check()).toBe('reloaded');
    expect(applied.map((credentials) => credentials.leaf.fingerprint256)).toEqual([readServerCredentials(files).leaf.fingerprint256]);
    expect(logs.lines.filter((line) => line.msg === 'TLS certificate reloaded')).toHaveLength(1);
    expect(subject.check()).toBe('unchanged');
  });

  it('keeps the certificate in use when the key is not the new certificate\'s, logs it once, and takes the key when it comes', () => {
    const files = liveFiles();
    const { reloader: subject, applied, logs } = reloader(files);
    replace(files.cert.path, readFileSync(second.cert));
    expect(subject.check()).toBe('failed');
    expect(subject.check()).toBe('failed');
    expect(applied).toEqual([]);
    const failures = logs.lines.filter((line) => line.msg === 'TLS certificate reload failed: the certificate in use stays');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 'error' });
    expect(String(failures[0]?.err)).toMatch(/not usable together/);
    replace(files.key.path, readFileSync(second.key));
    expect(subject.check()).toBe('reloaded');
  });

  it('keeps the certificate in use when a file is half written or gone for a moment', () => {
    const files = liveFiles();
    const { reloader: subject, applied } = reloader(files);
    const pem = readFileSync(second.cert);
    replace(files.cert.path, pem.subarray(0, Math.floor(pem.length / 3)));
    expect(subject.check()).toBe('failed');
    renameSync(files.key.path, `${files.key.path}.gone`);
    expect(subject.check()).toBe('failed');
    expect(applied).toEqual([]);
  });

  it('notices a file renamed over the watched one by itself (the directory is watched), after the files settle', async () => {
    const files = liveFiles();
    const { reloader: subject, applied, logs } = reloader(files);
    subject.start();
    replace(files.key.path, readFileSync(second.key));
    replace(files.cert.path, readFileSync(second.cert));
    await logs.waitFor('TLS certificate reloaded');
    expect(applied).toHaveLength(1);
  });

  it('lets go of its watchers and timers on close (idempotent), and checks nothing after', () => {
    const files = liveFiles();
    const { reloader: subject, applied } = reloader(files);
    subject.start();
    subject.close();
    subject.close();
    replace(files.cert.path, readFileSync(second.cert));
    replace(files.key.path, readFileSync(second.key));
    expect(subject.check()).toBe('unchanged');
    expect(applied).toEqual([]);
  });
});
