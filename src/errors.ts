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
  /** The durable store cannot be opened (missing permissions, corrupt file, wrong schema version). */
  StoreUnavailable: 'OCPP_SPLITTER_ERR_STORE_UNAVAILABLE',
  /** A write to the durable store failed (disk full, I/O error); the writes are kept and retried. */
  StoreWriteFailed: 'OCPP_SPLITTER_ERR_STORE_WRITE_FAILED',
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
