/** ocpp-splitter as a library: create, listen, close. The CLI is a thin process around this. */
export { createProxy, type Proxy, type ProxyOptions } from './proxy.js';
export { resolveConfig, type ConfigSources, type ResolvedConfig } from './config/load.js';
export { configSchema, type Config } from './config/schema.js';
export { createLogger, type LogFormat, type Logger, type LogLevel } from './logging/logger.js';
export { ConfigError, ErrorCode, OcppSplitterError } from './errors.js';
export { parseFrame, serializeFrame, MessageType, type Frame, type ParseResult } from './ocpp/frame.js';
export { VERSION } from './version.js';
