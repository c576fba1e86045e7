import { ErrorCode } from '../../errors.js';
import { HttpStatus } from '../../http/refuse.js';
import type { AdmissionStep } from '../chain.js';
import { UpgradeRefusal } from '../refusal.js';

export interface CheckClientCertificateOptions {
  /** `tls_client_auth`: whether a client certificate is asked for (request) or needed (require). */
  readonly clientAuth: 'none' | 'request' | 'require';
  /** `tls_client_identity`: `cn`, the certificate's subject CN must be the charge point id; `none`, any trusted certificate. */
  readonly identity: 'cn' | 'none';
}

/**
 * OCPP security profile 3 at the proxy, which terminates the charger's TLS: a charger that presents a client
 * certificate must present one issued by `tls_ca_file`, and (with `identity: 'cn'`) one whose subject CN is
 * the charge point id in its URL — OCPP 2.0.1 A00.FR.405 puts the charger's identity there, and the 1.6
 * Security Whitepaper its serial number — so that one charger's certificate cannot open another's session.
 * Under `require` a charger without a certificate is refused; under `request` it is a profile 2 charger.
 *
 * Each refusal is a 403 before anything is dialled. The TLS layer itself lets every certificate through
 * (see serverTlsOptions), so that these refusals have a status and a log line.
 */
export function checkClientCertificate(options: CheckClientCertificateOptions): AdmissionStep {
  const { clientAuth, identity } = options;
  return function checkClientCertificate(handshake) {
    if (clientAuth === 'none') return;
    const tls = handshake.tls;
    const certificate = tls?.certificate;
    if (tls === undefined || certificate === undefined) {
      if (clientAuth === 'request') return;
      // Anyone can connect without a certificate: throttled.
      throw refused(ErrorCode.ClientCertificateRequired, 'a client certificate is required', {}, true);
    }
    const subject = oneLine(certificate.subject);
    if (!tls.authorized) {
      // A self-signed certificate costs nothing to make: throttled.
      throw refused(ErrorCode.ClientCertificateInvalid, 'client certificate not trusted', { certificate_subject: subject, certificate_error: tls.authorizationError }, true);
    }
    if (identity === 'none') return;
    // Several CN attributes come as an array: none of them can then be "the" identity.
    const commonName: unknown = certificate.subject.CN;
    if (commonName !== handshake.charger.identity) {
      // Issued by the operator's own CA to another charger: worth a line every time.
      throw refused(ErrorCode.ClientCertificateMismatch, 'client certificate is not this charge point\'s', { certificate_subject: subject }, false);
    }
  };
}

function refused(code: ErrorCode, reason: string, fields: Readonly<Record<string, unknown>>, throttled: boolean): UpgradeRefusal {
  const status = HttpStatus.Forbidden;
  return new UpgradeRefusal(code, { status, reason, log: { level: 'warn', message: 'charger refused', fields: { status, reason, ...fields }, throttled } });
}

/** A certificate's subject as one short line (`CN=CP-1, O=Acme`), for the log. */
function oneLine(subject: object): string {
  return Object.entries(subject)
    .map(([name, item]) => {
      const value: unknown = item;
      return `${name}=${Array.isArray(value) ? value.join('+') : String(value)}`;
    })
    .join(', ');
}
