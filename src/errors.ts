/**
 * The error catalog. Every error the proxy raises on purpose carries a stable
 * machine code, so callers, logs and tests match on `code`, never on message text.
 */
export const ErrorCode = {
  /** A configuration value failed validation. */
  ConfigInvalid: 'OCPP_SPLITTER_ERR_CONFIG_INVALID',
  /** A configuration file named explicitly (flag or env) does not exist. */
  ConfigFileNotFound: 'OCPP_SPLITTER_ERR_CONFIG_FILE_NOT_FOUND',
  /** A configuration file exists but cannot be read or parsed. */
  ConfigFileUnreadable: 'OCPP_SPLITTER_ERR_CONFIG_FILE_UNREADABLE',
  /** Unknown or malformed command-line arguments. */
  CliUsage: 'OCPP_SPLITTER_ERR_CLI_USAGE',
  /** The proxy is shutting down or not listening. */
  ProxyClosed: 'OCPP_SPLITTER_ERR_PROXY_CLOSED',
  /** A charger's upgrade request is not a WebSocket upgrade the proxy can complete (method, headers). */
  UpgradeInvalid: 'OCPP_SPLITTER_ERR_UPGRADE_INVALID',
  /** The charge point identity in a charger's URL is missing or not one OCPP allows. */
  IdentityInvalid: 'OCPP_SPLITTER_ERR_IDENTITY_INVALID',
  /** The primary answered the proxy's upgrade with an HTTP error: the charger gets the same status. */
  PrimaryRefused: 'OCPP_SPLITTER_ERR_PRIMARY_REFUSED',
  /** The primary could not be reached (DNS, TCP, TLS): the charger gets 502. */
  PrimaryUnreachable: 'OCPP_SPLITTER_ERR_PRIMARY_UNREACHABLE',
  /** The primary did not complete its handshake within `primary_connect_timeout_ms`: the charger gets 504. */
  PrimaryTimeout: 'OCPP_SPLITTER_ERR_PRIMARY_TIMEOUT',
  /** The charger left, or the proxy began shutting down, while its upgrade waited for the primary. */
  HandshakeAborted: 'OCPP_SPLITTER_ERR_HANDSHAKE_ABORTED',
  /** The primary accepted none of the charger's sub-protocols: 101 without one, then close 1002 (OCPP-J). */
  NoCommonSubprotocol: 'OCPP_SPLITTER_ERR_NO_COMMON_SUBPROTOCOL',
  /** A TLS file (certificate, chain, CA bundle, private key) named in the configuration cannot be read or used. */
  TlsFileInvalid: 'OCPP_SPLITTER_ERR_TLS_FILE_INVALID',
  /** A connection's TLS handshake failed (TLS below 1.2, plain HTTP on the TLS port, the client distrusts the certificate). */
  TlsHandshakeFailed: 'OCPP_SPLITTER_ERR_TLS_HANDSHAKE_FAILED',
  /** `tls_client_auth: require` and the charger presented no client certificate: 403. */
  ClientCertificateRequired: 'OCPP_SPLITTER_ERR_CLIENT_CERTIFICATE_REQUIRED',
  /** The charger's client certificate was not issued by `tls_ca_file`, or is not valid now: 403. */
  ClientCertificateInvalid: 'OCPP_SPLITTER_ERR_CLIENT_CERTIFICATE_INVALID',
  /** The charger's client certificate names another charger (subject CN ≠ the id in the URL): 403. */
  ClientCertificateMismatch: 'OCPP_SPLITTER_ERR_CLIENT_CERTIFICATE_MISMATCH',
  /** `max_connections` chargers are connected: a new one gets 503 with Retry-After. */
  TooManyConnections: 'OCPP_SPLITTER_ERR_TOO_MANY_CONNECTIONS',
  /** `max_connections_per_ip` connections are open from the client's address: 503 with Retry-After. */
  TooManyFromAddress: 'OCPP_SPLITTER_ERR_TOO_MANY_FROM_ADDRESS',
  /** `max_pending_handshakes` connections are not yet charger sessions: 503 with Retry-After. */
  TooManyPending: 'OCPP_SPLITTER_ERR_TOO_MANY_PENDING',
  /** What chargers sent before their 101 reached `max_pending_handshake_bytes` in total: 503 with Retry-After. */
  PendingBytesBudget: 'OCPP_SPLITTER_ERR_PENDING_BYTES_BUDGET',
  /** A connection sent no complete HTTP request within `handshake_timeout_ms`: 408, closed. */
  HandshakeTimeout: 'OCPP_SPLITTER_ERR_HANDSHAKE_TIMEOUT',
  /** `charger_auth: local | both`: the charger's HTTP Basic credentials are missing, malformed or wrong: 401. */
  ChargerUnauthorized: 'OCPP_SPLITTER_ERR_CHARGER_UNAUTHORIZED',
  /** The charge point id matches none of `allowed_chargers`: 404. */
  ChargerUnknown: 'OCPP_SPLITTER_ERR_CHARGER_UNKNOWN',
  /** Too many charger password checks (scrypt) running and waiting at once: 503 with Retry-After. */
  TooManyPasswordChecks: 'OCPP_SPLITTER_ERR_TOO_MANY_PASSWORD_CHECKS',
  /** The durable store cannot be opened (missing permissions, corrupt file, wrong schema version). */
  StoreUnavailable: 'OCPP_SPLITTER_ERR_STORE_UNAVAILABLE',
  /** A write to the durable store failed (disk full, I/O error); the writes are kept and retried. */
  StoreWriteFailed: 'OCPP_SPLITTER_ERR_STORE_WRITE_FAILED',
  /** The store's write-behind buffer is at its byte budget (the store has been failing): the write was not taken. */
  StoreOverloaded: 'OCPP_SPLITTER_ERR_STORE_OVERLOADED',
  /** A write carried a fence (lease token) that no longer holds the charger's lease: another owner took over. */
  LeaseLost: 'OCPP_SPLITTER_ERR_LEASE_LOST',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class OcppSplitterError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OcppSplitterError';
    this.code = code;
  }
}

/** A configuration problem: `message` is one line naming the option and the value. */
export class ConfigError extends OcppSplitterError {
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'ConfigError';
  }
}

/** A durable-store failure; `code` tells whether opening or writing failed. */
export class StoreError extends OcppSplitterError {
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'StoreError';
  }
}
