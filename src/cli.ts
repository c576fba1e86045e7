#!/usr/bin/env node
/**
 * The process around the library: reads flags, environment and config file,
 * owns signals and exit codes. Everything else lives in createProxy().
 */
import { parseCliArgs, helpText } from './config/cli-args.js';
import { resolveConfig } from './config/load.js';
import { ConfigError, ErrorCode } from './errors.js';
import { createLogger, taggedLogger } from './logging/logger.js';
import { createProxy } from './proxy.js';
import { VERSION } from './version.js';

/** Exit codes: 0 clean stop, 1 runtime failure, 2 usage error, 78 bad configuration (EX_CONFIG). */
const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const EXIT_CONFIG = 78;
/** A stop must finish within this, whatever the proxy is waiting for (Docker's default grace is 10 s). */
const HARD_STOP_MS = 9_500;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let command;
  let resolved;
  try {
    command = parseCliArgs(argv);
    if (command.kind === 'help') {
      process.stdout.write(helpText(VERSION));
      return EXIT_OK;
    }
    if (command.kind === 'version') {
      process.stdout.write(`${VERSION}\n`);
      return EXIT_OK;
    }
    resolved = resolveConfig({ flags: command.flags, env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`ocpp-splitter: ${error.message}\n`);
      return error.code === ErrorCode.CliUsage ? EXIT_USAGE : EXIT_CONFIG;
    }
    throw error;
  }

  const { config, warnings, configFile } = resolved;
  const rootLog = createLogger(config.log_level);
  const log = taggedLogger(rootLog, 'proxy');
  for (const warning of warnings) log.warn(warning);
  log.info({ config_file: configFile.path, loaded: configFile.loaded, version: VERSION }, 'configuration loaded');

  const proxy = createProxy(config, { logger: rootLog });
  // Handlers go in before listening: a signal during start-up must also stop cleanly.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        resolve(EXIT_FAILURE);
        return;
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      setTimeout(() => {
        log.error('shutdown did not finish in time');
        resolve(EXIT_FAILURE);
      }, HARD_STOP_MS).unref();
      proxy.close().then(
        () => resolve(EXIT_OK),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(EXIT_FAILURE);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });

  try {
    await proxy.listen();
  } catch (error) {
    log.error({ err: error, port: config.port }, 'cannot listen');
    return EXIT_FAILURE;
  }
  return stopped;
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`ocpp-splitter: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
