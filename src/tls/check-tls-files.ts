import type { Config } from '../config/schema.js';
import { readServerCredentials, serverTlsFiles } from './server-tls.js';
import { readUpstreamTlsConfig } from './upstream-tls.js';

/**
 * Reads every TLS file the configuration names, as `createProxy` will: for the cluster primary, which serves
 * no charger, so that a file that cannot be used is said once before any worker is forked, not once per worker.
 * @throws ConfigError (TlsFileInvalid) naming the option and the file.
 */
export function checkTlsFiles(config: Readonly<Config>): void {
  const files = serverTlsFiles(config);
  if (files !== undefined) readServerCredentials(files);
  readUpstreamTlsConfig(config);
}
