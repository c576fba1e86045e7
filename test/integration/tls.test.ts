/**
 * Issue 11, items 1, 2 and 7: TLS on both sides of the proxy, with real certificates made for this file
 * (test/support/certificates.ts) and strict OCPP peers (ocpp-rpc) over wss://. The chargers' side: security
 * profile 2 (TLS, Basic auth) and 3 (client certificates, the id bound to the certificate's CN), TLS 1.2 at
 * least, certificates reloaded with no charger dropped, the connection limits acting before TLS. The CSMSs'
 * side: a private CA, the proxy's own client certificate, verification turned off (and warned about).
 */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { handshakeResult } from '../../src/admin/observer.js';
import { channels, type HandshakeMessage } from '../../src/diagnostics/channels.js';
import { ErrorCode } from '../../src/errors.js';
import { createTestPki, type CertificateFiles, type TestPki } from '../support/certificates.js';
import { closeAll, connectRawCharger, onCleanup, startProxy, temporaryDirectory, type StartedProxy } from '../support/harness.js';
import { clientCertificate, startTlsCsms, tlsCharger } from '../support/tls-peers.js';

afterEach(closeAll);

let pki: TestPki;
/** What the listener shows chargers (127.0.0.1 and localhost), and a second one for the reload. */
let proxyServer: CertificateFiles;
let renewedServer: CertificateFiles;
let csmsServer: CertificateFiles;
let cp1: CertificateFiles;
let cp2: CertificateFiles;
/** CN=CP-1, but issued by nobody the proxy trusts. */
let forgedCp1: CertificateFiles;
/** The proxy's own client certificate toward a CSMS that asks for one. */
let proxyClient: CertificateFiles;
let selfSignedCsms: CertificateFiles;

beforeAll(() => {
  pki = createTestPki();
  proxyServer = pki.issue('proxy-server', { cn: 'localhost', usage: 'server' });
  renewedServer = pki.issue('proxy-server-renewed', { cn: 'localhost', usage: 'server' });
  csmsServer = pki.issue('csms-server', { cn: 'localhost', usage: 'server' });
  cp1 = pki.issue('cp-1', { cn: 'CP-1', usage: 'client' });
  cp2 = pki.issue('cp-2', { cn: 'CP-2', usage: 'client' });
  forgedCp1 = pki.selfSigned('forged-cp-1', { cn: 'CP-1', usage: 'client' });
  proxyClient = pki.issue('proxy-client', { cn: 'ocpp-splitter', usage: 'client' });
  selfSignedCsms = pki.selfSigned('csms-self-signed', { cn: 'localhost', usage: 'server' });
});
afterAll(() => pki.remove());

interface TlsProxy extends StartedProxy {
  /** `wss://127.0.0.1:<port>/<path>` */
  readonly wss: (path: string) => string;
}

/** A proxy whose chargers connect with wss://, showing `certificate` (default: the test CA's server certificate). */
async function startTlsProxy(primaryUrl: string, overrides: Record<string, unknown> = {}, certificate = proxyServer): Promise<TlsProxy> {
  const started = await startProxy(primaryUrl, { tls_cert_file: certificate.cert, tls_key_file: certificate.key, admin_port: 0, ...overrides });
  return { ...started, wss: (path) => `wss://127.0.0.1:${started.port}/${path.replace(/^\//, '')}` };
}

/** Every handshake decision published while the test runs. */
function recordHandshakes(): HandshakeMessage[] {
  const seen: HandshakeMessage[] = [];
  onCleanup(channels.handshake.subscribe((message) => seen.push(message)));
  return seen;
}

/** A WebSocket upgrade over TLS, with the HTTP status the proxy answered (101 when admitted). */
async function tlsUpgrade(url: string, tls: ConnectionOptions = {}): Promise<number> {
  const socket = new WebSocket(url, ['ocpp1.6'], { ca: pki.ca.certPem, ...tls });
  onCleanup(() => socket.terminate());
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_request, response: IncomingMessage) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    socket.once('upgrade', (response: IncomingMessage) => resolve(response.statusCode ?? 0));
    socket.once('error', reject);
  });
}

/** A TLS connection to the proxy's port; resolves once the handshake is done (or rejects with why it failed). */
async function tlsConnection(port: number, options: ConnectionOptions = {}): Promise<TLSSocket> {
  const socket = connectTls({ host: '127.0.0.1', port, ca: pki.ca.certPem, ...options });
  onCleanup(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** What a TLS socket receives until it is closed. */
async function receivedUntilClosed(socket: TLSSocket | Socket): Promise<string> {
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => {
    // A reset after the answer: what arrived is what counts.
  });
  if (!socket.closed) await once(socket, 'close');
  return text;
}

describe('security profile 2: wss:// from the charger, to a wss:// primary and secondary', () => {
  it('carries a strict OCPP 1.6 charger over TLS end to end, mirroring to a secondary over TLS, with its Basic credentials', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const secondary = await startTlsCsms({ certificate: csmsServer });
    const proxy = await startTlsProxy(primary.url, {
      primary_csms_ca_file: pki.ca.cert,
      secondary_csms: [{ url: secondary.url, name: 'analytics', ca_file: pki.ca.cert }],
    });
    const listening = await proxy.logs.waitFor('proxy listening');
    expect(listening).toMatchObject({ tls: true, tls_client_auth: 'none', certificate: { subject: 'CN=localhost' } });

    const charger = tlsCharger(proxy.wss('/ocpp'), 'CP-1', { ca: pki.ca.certPem }, 'a-profile-2-password');
    await charger.connect();
    const boot = await charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Volt' });
    expect(boot).toMatchObject({ status: 'Accepted' });
    expect(primary.upgrades).toMatchObject([{ identity: 'CP-1', password: 'a-profile-2-password', clientCertificateCn: '' }]);

    const mirrored = await secondary.nextClient();
    expect(mirrored.identity).toBe('CP-1');
    // Over wss://, the secondary gets the charger's credentials too (forward_authorization unset).
    expect(secondary.upgrades[0]?.password).toBe('a-profile-2-password');
    await expect(charger.call('Heartbeat', {})).resolves.toHaveProperty('currentTime');
  });

  it('answers plain HTTP on the TLS port with nothing but a log line, and /healthz over TLS', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const proxy = await startTlsProxy(primary.url, { primary_csms_ca_file: pki.ca.cert });
    const handshakes = recordHandshakes();
    const plain = new WebSocket(`ws://127.0.0.1:${proxy.port}/ocpp/CP-1`, ['ocpp1.6']);
    plain.on('error', () => {
      // Expected: the TLS port does not speak plain HTTP.
    });
    onCleanup(() => plain.terminate());
    // Not events.once: it would reject on the 'error' that comes first.
    await new Promise((resolve) => plain.once('close', resolve));
    expect(await proxy.logs.waitFor('TLS handshake failed')).toMatchObject({ reason: 'plain HTTP on the TLS port: the client must connect with wss://', remote_address: '127.0.0.1' });
    expect(handshakes).toContainEqual(expect.objectContaining({ outcome: 'refused', status: 0, code: ErrorCode.TlsHandshakeFailed }));
    expect(handshakeResult('refused', ErrorCode.TlsHandshakeFailed)).toBe('tls_handshake_failed');

    const health = await tlsConnection(proxy.port);
    health.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(await receivedUntilClosed(health)).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*"status":"ok"/);
  });

  it('refuses TLS below 1.2 in the handshake, and says so (throttled) with the client\'s address', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const proxy = await startTlsProxy(primary.url, { primary_csms_ca_file: pki.ca.cert });
    const handshakes = recordHandshakes();
    // SECLEVEL=0: the client library itself would otherwise not offer TLS 1.1.
    await expect(tlsConnection(proxy.port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).rejects.toThrow();
    expect(await proxy.logs.waitFor('TLS handshake failed')).toMatchObject({ reason: 'the client offered no TLS version from 1.2 on' });
    expect(handshakes).toContainEqual(expect.objectContaining({ code: ErrorCode.TlsHandshakeFailed }));
    const tls12 = await tlsConnection(proxy.port, { maxVersion: 'TLSv1.2' });
    expect(tls12.getProtocol()).toBe('TLSv1.2');
    expect(primary.upgrades).toEqual([]);
  });
});

describe('security profile 3: client certificates, the id bound to the certificate', () => {
  it('under require: lets in CP-1 with its certificate; refuses CP-2\'s certificate on CP-1, no certificate, and a forged one, with 403 before the primary is dialled', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const proxy = await startTlsProxy(primary.url, { primary_csms_ca_file: pki.ca.cert, tls_ca_file: pki.ca.cert, tls_client_auth: 'require' });
    const handshakes = recordHandshakes();

    const charger = tlsCharger(proxy.wss('/ocpp'), 'CP-1', { ca: pki.ca.certPem, ...clientCertificate(cp1) });
    await charger.connect();
    await expect(charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Volt' })).resolves.toMatchObject({ status: 'Accepted' });
    // The charger's certificate ends at the proxy (OCPP 2.0.1 Part 4 §6): the primary sees none.
    expect(primary.upgrades).toMatchObject([{ identity: 'CP-1', clientCertificateCn: '' }]);

    expect(await tlsUpgrade(proxy.wss('/ocpp/CP-1'), clientCertificate(cp2))).toBe(403);
    expect(await tlsUpgrade(proxy.wss('/ocpp/CP-1'))).toBe(403);
    expect(await tlsUpgrade(proxy.wss('/ocpp/CP-1'), clientCertificate(forgedCp1))).toBe(403);
    // The fake primary saw the first charger only: not even a TCP connection for the others.
    expect(primary.upgrades).toHaveLength(1);
    expect(primary.connections()).toBe(1);

    const refused = handshakes.filter((message) => message.outcome === 'refused').map((message) => handshakeResult('refused', message.code));
    expect(refused).toEqual(['certificate_mismatch', 'certificate_required', 'certificate_invalid']);
    const mismatch = await proxy.logs.waitFor('charger refused', (line) => line.certificate_subject === 'CN=CP-2');
    expect(mismatch).toMatchObject({ status: 403, remote_address: '127.0.0.1', reason: 'client certificate is not this charge point\'s' });
    // The TLS socket became a session: the guard no longer counts it as pending.
    expect(proxy.proxy.stats()).toMatchObject({ chargers: 1 });
    await expect.poll(() => proxy.proxy.stats().pendingConnections).toBe(0);
  });

  it('under request: a charger without a certificate gets in (profile 2), one with its own certificate too', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const proxy = await startTlsProxy(primary.url, { primary_csms_ca_file: pki.ca.cert, tls_ca_file: pki.ca.cert, tls_client_auth: 'request' });
    expect(await tlsUpgrade(proxy.wss('/ocpp/CP-9'))).toBe(101);
    expect(await tlsUpgrade(proxy.wss('/ocpp/CP-2'), clientCertificate(cp2))).toBe(101);
    expect(await tlsUpgrade(proxy.wss('/ocpp/CP-1'), clientCertificate(cp2))).toBe(403);
    expect(primary.upgrades.map((upgrade) => upgrade.identity)).toEqual(['CP-9', 'CP-2']);
  });
});

describe('the connection limits on a TLS listener', () => {
  it('time out a connection that never completes its TLS handshake (closed, no answer), and one that sends no request after it (408 over TLS)', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const proxy = await startTlsProxy(primary.url, { primary_csms_ca_file: pki.ca.cert, handshake_timeout_ms: 1000 });
    const handshakes = recordHandshakes();

    const silent = connectTcp({ host: '127.0.0.1', port: proxy.port });
    onCleanup(() => silent.destroy());
    await once(silent, 'connect');
    expect(await receivedUntilClosed(silent)).toBe('');
    expect(await proxy.logs.waitFor('connection refused by a limit', (line) => line.reason === 'no TLS handshake in time')).toMatchObject({
      limit: 'handshake_timeout_ms',
      status: 0,
      remote_address: '127.0.0.1',
    });

    const idle = await tlsConnection(proxy.port);
    expect(await receivedUntilClosed(idle)).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(handshakes.map((message) => [message.code, message.status])).toEqual([
      [ErrorCode.HandshakeTimeout, 0],
      [ErrorCode.HandshakeTimeout, 408],
    ]);
    // The guard's own timeout acted, not Node's TLS one (which would be counted as a failed TLS handshake).
    expect(proxy.logs.lines.filter((line) => line.msg === 'TLS handshake failed')).toEqual([]);
    await expect.poll(() => proxy.proxy.stats().pendingConnections).toBe(0);
  });

  it('refuse a connection over max_pending_handshakes before its TLS handshake (closed: no HTTP can be written yet)', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const proxy = await startTlsProxy(primary.url, { primary_csms_ca_file: pki.ca.cert, max_pending_handshakes: 1 });
    const held = connectTcp({ host: '127.0.0.1', port: proxy.port });
    onCleanup(() => held.destroy());
    await once(held, 'connect');
    await expect.poll(() => proxy.proxy.stats().pendingConnections).toBe(1);
    await expect(tlsConnection(proxy.port)).rejects.toThrow();
    expect(await proxy.logs.waitFor('connection refused by a limit')).toMatchObject({ limit: 'max_pending_handshakes', status: 0 });
    held.destroy();
    await expect.poll(() => proxy.proxy.stats().pendingConnections).toBe(0);
    expect(await tlsUpgrade(proxy.wss('/ocpp/CP-1'))).toBe(101);
  });
});

describe('certificates reloaded without a restart', () => {
  /** The listener's files in a directory of their own, as certbot or Home Assistant's /ssl keep them. */
  function liveCertificate(): { dir: string; cert: string; key: string } {
    const dir = temporaryDirectory('ocpp-splitter-ssl-');
    const cert = join(dir, 'fullchain.pem');
    const key = join(dir, 'privkey.pem');
    copyFileSync(proxyServer.cert, cert);
    copyFileSync(proxyServer.key, key);
    return { dir, cert, key };
  }

  function replace(path: string, content: Buffer): void {
    writeFileSync(`${path}.new`, content);
    renameSync(`${path}.new`, path);
  }

  it('a new connection sees the renewed certificate, and a connected charger stays connected', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const live = liveCertificate();
    const proxy = await startProxy(primary.url, { tls_cert_file: live.cert, tls_key_file: live.key, primary_csms_ca_file: pki.ca.cert, admin_port: 0 });
    const charger = tlsCharger(`wss://127.0.0.1:${proxy.port}/ocpp`, 'CP-1', { ca: pki.ca.certPem });
    await charger.connect();
    const before = await tlsConnection(proxy.port);
    expect(before.getPeerCertificate().fingerprint256).toBe(fingerprint(proxyServer));

    replace(live.key, renewedServer.keyPem);
    replace(live.cert, renewedServer.certPem);
    await proxy.logs.waitFor('TLS certificate reloaded');

    const after = await tlsConnection(proxy.port);
    expect(after.getPeerCertificate().fingerprint256).toBe(fingerprint(renewedServer));
    await expect(charger.call('Heartbeat', {})).resolves.toHaveProperty('currentTime');
    expect(proxy.proxy.sessions.size).toBe(1);
    expect(proxy.logs.lines.filter((line) => line.msg === 'session ended' || line.msg === 'charger disconnected')).toEqual([]);
  });

  it('after a reload, client certificates are still checked against tls_ca_file (the new context has the CA too)', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const live = liveCertificate();
    const proxy = await startProxy(primary.url, {
      tls_cert_file: live.cert,
      tls_key_file: live.key,
      tls_ca_file: pki.ca.cert,
      tls_client_auth: 'require',
      primary_csms_ca_file: pki.ca.cert,
      admin_port: 0,
    });
    replace(live.key, renewedServer.keyPem);
    replace(live.cert, renewedServer.certPem);
    await proxy.logs.waitFor('TLS certificate reloaded');
    expect(await tlsUpgrade(`wss://127.0.0.1:${proxy.port}/ocpp/CP-1`, clientCertificate(cp1))).toBe(101);
    expect(await tlsUpgrade(`wss://127.0.0.1:${proxy.port}/ocpp/CP-1`, clientCertificate(forgedCp1))).toBe(403);
    expect(await tlsUpgrade(`wss://127.0.0.1:${proxy.port}/ocpp/CP-2`)).toBe(403);
  });

  it('a reload that fails (a key that is not the certificate\'s) keeps serving the certificate in use, and logs an error', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const live = liveCertificate();
    const proxy = await startProxy(primary.url, { tls_cert_file: live.cert, tls_key_file: live.key, primary_csms_ca_file: pki.ca.cert, admin_port: 0 });
    replace(live.cert, renewedServer.certPem);
    expect(await proxy.logs.waitFor('TLS certificate reload failed: the certificate in use stays')).toMatchObject({ level: 'error' });
    const connection = await tlsConnection(proxy.port);
    expect(connection.getPeerCertificate().fingerprint256).toBe(fingerprint(proxyServer));
    expect(await tlsUpgrade(`wss://127.0.0.1:${proxy.port}/ocpp/CP-1`)).toBe(101);
  });
});

describe('upstream TLS (issue 11 item 7)', () => {
  it('refuses a primary with a self-signed certificate (502), and with primary_csms_reject_unauthorized: false connects and warned at start', async () => {
    const primary = await startTlsCsms({ certificate: selfSignedCsms });
    const checked = await startProxy(primary.url);
    const refused = await tlsUpgradePlain(checked.url('/ocpp/CP-1'));
    expect(refused).toBe(502);

    const unchecked = await startProxy(primary.url, { primary_csms_reject_unauthorized: false });
    expect(await unchecked.logs.waitFor('TLS certificate of this upstream is not checked: anyone on the path can read and change its traffic')).toMatchObject({
      level: 'warn',
      upstream: 'primary',
      option: 'primary_csms_reject_unauthorized',
    });
    const charger = await connectRawCharger(unchecked.url('/ocpp/CP-1'));
    expect(charger.protocol).toBe('ocpp1.6');
    expect(primary.upgrades.map((upgrade) => upgrade.identity)).toEqual(['CP-1']);
  });

  it('names each secondary whose certificate is not checked', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer });
    const secondary = await startTlsCsms({ certificate: selfSignedCsms });
    const proxy = await startProxy(primary.url, {
      primary_csms_ca_file: pki.ca.cert,
      secondary_csms: [{ url: secondary.url, name: 'lab', reject_unauthorized: false }],
    });
    expect(await proxy.logs.waitFor('TLS certificate of this upstream is not checked: anyone on the path can read and change its traffic')).toMatchObject({
      upstream: 'lab',
      option: 'secondary_csms[0].reject_unauthorized',
    });
    await connectRawCharger(proxy.url('/ocpp/CP-1'));
    await expect(secondary.nextClient()).resolves.toMatchObject({ identity: 'CP-1' });
  });

  it('shows its own client certificate to a primary and a secondary that require one (the Local Controller set-up); without it the primary refuses the TLS handshake (502)', async () => {
    const primary = await startTlsCsms({ certificate: csmsServer, requireClientCertificateFrom: pki.ca.cert });
    const secondary = await startTlsCsms({ certificate: csmsServer, requireClientCertificateFrom: pki.ca.cert });
    const withoutCertificate = await startProxy(primary.url, { primary_csms_ca_file: pki.ca.cert });
    expect(await tlsUpgradePlain(withoutCertificate.url('/ocpp/CP-1'))).toBe(502);

    const proxy = await startTlsProxy(primary.url, {
      primary_csms_ca_file: pki.ca.cert,
      primary_csms_cert_file: proxyClient.cert,
      primary_csms_key_file: proxyClient.key,
      tls_ca_file: pki.ca.cert,
      tls_client_auth: 'require',
      secondary_csms: [{ url: secondary.url, ca_file: pki.ca.cert, cert_file: proxyClient.cert, key_file: proxyClient.key }],
    });
    const charger = tlsCharger(proxy.wss('/ocpp'), 'CP-1', { ca: pki.ca.certPem, ...clientCertificate(cp1) });
    await charger.connect();
    await expect(charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Volt' })).resolves.toMatchObject({ status: 'Accepted' });
    expect(primary.upgrades).toMatchObject([{ identity: 'CP-1', clientCertificateCn: 'ocpp-splitter' }]);
    await secondary.nextClient();
    expect(secondary.upgrades).toMatchObject([{ identity: 'CP-1', clientCertificateCn: 'ocpp-splitter' }]);
  });
});

/** The SHA-256 fingerprint Node reports for the leaf (the first certificate) of `files`. */
function fingerprint(files: CertificateFiles): string {
  return new X509Certificate(files.certPem).fingerprint256;
}

/** An upgrade over plain ws:// (the charger's side is not what is tested), with the status the proxy answered. */
async function tlsUpgradePlain(url: string): Promise<number> {
  const socket = new WebSocket(url, ['ocpp1.6']);
  onCleanup(() => socket.terminate());
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_request, response: IncomingMessage) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    socket.once('upgrade', (response: IncomingMessage) => resolve(response.statusCode ?? 0));
    socket.once('error', reject);
  });
}
