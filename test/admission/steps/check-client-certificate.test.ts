import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmission } from '../../../src/admission/chain.js';
import { Handshake } from '../../../src/admission/handshake.js';
import { checkClientCertificate, type CheckClientCertificateOptions } from '../../../src/admission/steps/check-client-certificate.js';
import { identifyCharger } from '../../../src/admission/steps/identify-charger.js';
import { ErrorCode } from '../../../src/errors.js';
import { fakeHandshake, VALID_UPGRADE_HEADERS } from '../fake-handshake.js';

const sockets: TLSSocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

interface PeerOptions {
  /** The subject of the certificate the charger presented; none presented when undefined. */
  readonly subject?: Record<string, string | string[]>;
  readonly authorized?: boolean;
  readonly authorizationError?: string;
}

/** A handshake whose request came over TLS, with what the TLS layer found out about the peer. */
function tlsHandshake(url: string, peer: PeerOptions): Handshake {
  const socket = new TLSSocket(new Socket());
  sockets.push(socket);
  const certificate = peer.subject === undefined ? {} : { subject: peer.subject, issuer: { CN: 'test CA' } };
  // What Node reports after a real handshake (tls.test.ts has the real thing).
  Object.defineProperty(socket, 'authorized', { value: peer.authorized ?? false });
  Object.defineProperty(socket, 'authorizationError', { value: peer.authorizationError ?? null });
  Object.defineProperty(socket, 'getPeerCertificate', { value: () => certificate as PeerCertificate });
  const request = new IncomingMessage(socket);
  request.method = 'GET';
  request.url = url;
  request.headers = VALID_UPGRADE_HEADERS;
  return new Handshake(request, new PassThrough(), Buffer.alloc(0));
}

async function admit(handshake: Handshake, options: CheckClientCertificateOptions): Promise<void> {
  await runAdmission([identifyCharger, checkClientCertificate(options)], handshake, handshake.signal);
}

const REQUIRE_CN: CheckClientCertificateOptions = { clientAuth: 'require', identity: 'cn' };

describe('checkClientCertificate (security profile 3, issue 11 item 2)', () => {
  it('lets in a charger whose trusted certificate names it (subject CN = the id in the URL)', async () => {
    const handshake = tlsHandshake('/ocpp/CP-1', { subject: { CN: 'CP-1' }, authorized: true });
    await admit(handshake, REQUIRE_CN);
    expect(handshake.tls?.certificate?.subject.CN).toBe('CP-1');
  });

  it('refuses with 403 a trusted certificate issued to another charger, logging both names every time', async () => {
    const handshake = tlsHandshake('/ocpp/CP-1', { subject: { CN: 'CP-2', O: 'Acme' }, authorized: true });
    await expect(admit(handshake, REQUIRE_CN)).rejects.toMatchObject({
      code: ErrorCode.ClientCertificateMismatch,
      status: 403,
      log: { level: 'warn', message: 'charger refused', fields: { certificate_subject: 'CN=CP-2, O=Acme' }, throttled: false },
    });
  });

  it('compares the CN exactly: another case, or several CNs, is not the id', async () => {
    const subjects: Array<Record<string, string | string[]>> = [{ CN: 'cp-1' }, { CN: ['CP-1', 'CP-2'] }, { O: 'Acme' }];
    for (const subject of subjects) {
      const handshake = tlsHandshake('/ocpp/CP-1', { subject, authorized: true });
      await expect(admit(handshake, REQUIRE_CN), JSON.stringify(subject)).rejects.toMatchObject({ code: ErrorCode.ClientCertificateMismatch });
    }
  });

  it('refuses with 403 a certificate tls_ca_file did not issue (or no longer valid), saying why', async () => {
    const handshake = tlsHandshake('/ocpp/CP-1', { subject: { CN: 'CP-1' }, authorized: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    await expect(admit(handshake, { clientAuth: 'request', identity: 'cn' })).rejects.toMatchObject({
      code: ErrorCode.ClientCertificateInvalid,
      status: 403,
      log: { fields: { certificate_error: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, throttled: true },
    });
  });

  it('under require, refuses a charger without a certificate with 403 (throttled: anyone can)', async () => {
    const handshake = tlsHandshake('/ocpp/CP-1', {});
    await expect(admit(handshake, REQUIRE_CN)).rejects.toMatchObject({ code: ErrorCode.ClientCertificateRequired, status: 403, log: { throttled: true } });
  });

  it('under request, lets a charger without a certificate in (security profile 2)', async () => {
    await admit(tlsHandshake('/ocpp/CP-1', {}), { clientAuth: 'request', identity: 'cn' });
  });

  it('with tls_client_identity none, any trusted certificate will do', async () => {
    await admit(tlsHandshake('/ocpp/CP-1', { subject: { CN: 'gateway-7' }, authorized: true }), { clientAuth: 'require', identity: 'none' });
  });

  it('checks nothing with tls_client_auth none, and refuses a plain ws:// charger under require (fails closed)', async () => {
    await admit(tlsHandshake('/ocpp/CP-1', { subject: { CN: 'CP-2' }, authorized: false }), { clientAuth: 'none', identity: 'cn' });
    const { handshake } = fakeHandshake({ url: '/ocpp/CP-1' });
    expect(handshake.tls).toBeUndefined();
    await expect(admit(handshake, REQUIRE_CN)).rejects.toMatchObject({ code: ErrorCode.ClientCertificateRequired });
  });
});
