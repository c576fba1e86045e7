/**
 * The server chargers connect to: plain HTTP (`ws://`) by default, HTTPS (`wss://`) once `tls_cert_file` is
 * set. Either way the proxy sees one `http.Server` with the same 'upgrade', 'request' and 'clientError'
 * events; what TLS adds is here: the certificate files, their reloading, and what a failed TLS handshake means.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { CertificateReloader } from './certificate-reloader.js';
import { summarise, type CertificateSummary } from './pem-files.js';
import { readServerCredentials, secureContextOptions, serverTlsFiles, serverTlsOptions } from './server-tls.js';

/**
 * Node's own limit on a TLS handshake, set past `handshake_timeout_ms`: the connection guard's timeout (which
 * counts from the TCP accept and covers the TLS handshake) is the one that acts and is counted.
 */
const NODE_TLS_HANDSHAKE_TIMEOUT_MARGIN_MS = 5_000;

export interface ChargerListener {
  readonly server: Server;
  /** Whether chargers connect with wss://. */
  readonly tls: boolean;
  /** The certificate chargers are shown when the listener started, for the start-up line. */
  readonly certificate: CertificateSummary | undefined;
  /** Starts following the certificate files (with TLS; nothing without). */
  start(): void;
  /** Stops following them. Idempotent. */
  close(): void;
}

/**
 * Creates the chargers' server; with TLS, reads the certificate, key and client CA now.
 * @throws ConfigError (TlsFileInvalid) naming the option and the file when one cannot be used.
 */
export function createChargerListener(config: Readonly<Config>, handler: RequestListener, log: Logger): ChargerListener {
  // headersTimeout bounds the requests after the first on a kept-alive connection (the connection guard times the first).
  const httpOptions = { headersTimeout: config.handshake_timeout_ms };
  const files = serverTlsFiles(config);
  if (files === undefined) {
    return { server: createServer(httpOptions, handler), tls: false, certificate: undefined, start: () => undefined, close: () => undefined };
  }
  const credentials = readServerCredentials(files);
  const server = createHttpsServer(
    {
      ...httpOptions,
      ...serverTlsOptions(credentials, config.tls_client_auth),
      handshakeTimeout: config.handshake_timeout_ms + NODE_TLS_HANDSHAKE_TIMEOUT_MARGIN_MS,
    },
    handler,
  );
  const reloader = new CertificateReloader({
    files,
    current: credentials,
    // Existing connections keep the context they were made with: no charger is dropped.
    apply: (next) => server.setSecureContext(secureContextOptions(next)),
    log,
  });
  return {
    server,
    tls: true,
    certificate: summarise(credentials.leaf),
    start: () => reloader.start(),
    close: () => reloader.close(),
  };
}

/** What a failed TLS handshake probably means, for the operator reading the log; undefined when it is no news. */
export function describeTlsFailure(error: Error & { code?: string }): string | undefined {
  const code = error.code ?? '';
  // The client left, or the connection guard closed it (that refusal is counted there).
  if (code === 'ECONNRESET' || code === 'EPIPE') return undefined;
  if (code === 'ERR_SSL_HTTP_REQUEST') return 'plain HTTP on the TLS port: the client must connect with wss://';
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') return 'not TLS: the client speaks another protocol';
  if (code === 'ERR_SSL_UNSUPPORTED_PROTOCOL' || code === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE' || code.endsWith('ALERT_PROTOCOL_VERSION')) {
    return 'the client offered no TLS version from 1.2 on';
  }
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED)$/.test(code)) {
    return 'the client does not trust this certificate (its CA, its host name, or its dates)';
  }
  if (code === 'ERR_SSL_NO_SHARED_CIPHER') return 'no cipher suite in common with the client';
  return 'the TLS handshake failed';
}
