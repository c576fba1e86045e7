#!/usr/bin/env node
/**
 * The process around the library: reads flags, environment and config file,
 * owns signals and exit codes. Everything else lives in createProxy().
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { IpcCoordinator } from './cluster/coordinator.js';
import { isPrimaryMessage } from './cluster/messages.js';
import { superviseWorkers } from './cluster/supervisor.js';
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
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  const inWorker = cluster.isWorker;
  const rootLog = inWorker ? createLogger(config.log_level).child({ worker: cluster.worker?.id }) : createLogger(config.log_level);
  const log = taggedLogger(rootLog, 'proxy');
  if (!inWorker) {
    // Said once, by the process that read the configuration, not once per worker.
    for (const warning of warnings) log.warn(warning);
    log.info({ config_file: configFile.path, loaded: configFile.loaded, version: VERSION, workers }, 'configuration loaded');
  }
  if (workers > 1 && cluster.isPrimary) return superviseUntilStopped(workers, log);

  const proxy = createProxy(config, { logger: rootLog, coordinator: inWorker ? new IpcCoordinator() : undefined });
  // Handlers go in before listening: a signal during start-up must also stop cleanly.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    /** Real signals received; the cluster primary's shutdown request is not one. */
    let signals = 0;
    const stop = (signal: NodeJS.Signals | 'shutdown-request'): void => {
      if (signal !== 'shutdown-request') signals += 1;
      if (stopping) {
        // A terminal's Ctrl-C reaches the whole process group, so a worker gets both the
        // SIGINT and the primary's shutdown request, in either order: only a second real
        // signal cuts the drain short.
        if (signals < 2) return;
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
    // A worker is stopped by the cluster primary over IPC.
    if (inWorker) {
      process.on('message', (message: unknown) => {
        if (isPrimaryMessage(message) && message.ocppSplitter === 'shutdown') stop('shutdown-request');
      });
    }
  });

  try {
    await proxy.listen();
  } catch (error) {
    log.error({ err: error, port: config.port }, 'cannot listen');
    return EXIT_FAILURE;
  }
  return stopped;
}

/** The cluster primary: runs the workers until SIGTERM/SIGINT, then stops them all. */
function superviseUntilStopped(workers: number, log: ReturnType<typeof taggedLogger>): Promise<number> {
  const supervisor = superviseWorkers(workers, log);
  const stop = (signal: NodeJS.Signals): void => {
    log.info({ signal }, 'stopping all workers');
    setTimeout(() => {
      log.error('workers did not stop in time');
      process.exit(EXIT_FAILURE);
    }, HARD_STOP_MS).unref();
    supervisor.stop();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return supervisor.done;
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`ocpp-splitter: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
