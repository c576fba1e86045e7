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
import { runHashPassword } from './hash-password.js';
import { resolveConfig } from './config/load.js';
import { ConfigError, ErrorCode } from './errors.js';
import { createLogger, taggedLogger } from './logging/logger.js';
import { createAdminServer, type AdminServer } from './admin/server.js';
import { LocalBackend } from './admin/backend.js';
import { ClusterBackend } from './admin/cluster-backend.js';
import { serveAdminToPrimary, type AdminWorkerLink } from './admin/cluster-worker.js';
import type { Config } from './config/schema.js';
import { createProxy, type Proxy } from './proxy.js';
import type { Logger } from './logging/logger.js';
import { publishListenAddress, withdrawListenAddress } from './runtime/listen-file.js';
import { checkTlsFiles } from './tls/check-tls-files.js';
import { checkBeforeForking, EXIT_CONFIG, EXIT_FAILURE, explainAdminListenFailure, explainStartupFailure } from './startup-failure.js';
import { VERSION } from './version.js';

/**
 * Exit codes: 0 clean stop, 1 runtime failure, 2 usage error, 78 (EX_CONFIG) a problem the operator must fix
 * before a restart can help: the configuration, the data directory, the port (see startup-failure.ts).
 */
const EXIT_OK = 0;
const EXIT_USAGE = 2;
/** A stop must finish within this, whatever the proxy is waiting for (Docker's default grace is 10 s). */
const HARD_STOP_MS = 9_500;
/**
 * Ctrl-C under `npm start` arrives twice within milliseconds: the terminal signals the whole process group, and
 * npm forwards its own copy to the proxy. A signal this soon after the first is that copy, not a second request.
 */
const SIGNAL_COPY_WINDOW_MS = 500;

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
    if (command.kind === 'hash-password') return await runHashPassword(process);
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
  const processLog = createLogger(config.log_level, undefined, config.log_format);
  const rootLog = inWorker ? processLog.child({ worker: cluster.worker?.id }) : processLog;
  const log = taggedLogger(rootLog, 'proxy');
  if (!inWorker) {
    // Said once, by the process that read the configuration, not once per worker.
    for (const warning of warnings) log.warn(warning);
    log.info({ config_file: configFile.path, loaded: configFile.loaded, version: VERSION, workers }, 'configuration loaded');
  }
  if (workers > 1 && cluster.isPrimary) {
    // Said once here rather than by every worker, each failing the same way.
    try {
      checkTlsFiles(config);
    } catch (error) {
      return startupFailed(explainStartupFailure(error, { port: config.port, host: config.host, dataDir: config.data_dir }));
    }
    const problem = await checkBeforeForking({
      port: config.port,
      host: config.host,
      dataDir: config.data_dir,
      needsStore: config.secondary_csms.length > 0,
    });
    if (problem !== undefined) return startupFailed(problem);
    // Opened before any worker is forked: if it cannot be, there is nothing to stop.
    const clusterAdmin = clusterAdminFor(config, rootLog);
    if (clusterAdmin !== undefined) {
      try {
        await clusterAdmin.server.listen();
      } catch (error) {
        await clusterAdmin.server.close();
        return startupFailed(explainAdminListenFailure(error, { port: config.admin_port, host: config.admin_host }));
      }
    }
    const code = await superviseUntilStopped(workers, log, clusterAdmin?.backend);
    await clusterAdmin?.server.close();
    return code;
  }

  let proxy: Proxy;
  try {
    proxy = createProxy(config, { logger: rootLog, coordinator: inWorker ? new IpcCoordinator() : undefined });
  } catch (error) {
    // A TLS file the configuration names that cannot be used (they are read now): exit 78, naming the option.
    return startupFailed(explainStartupFailure(error, { port: config.port, host: config.host, dataDir: config.data_dir }));
  }
  // Before the proxy listens: the admin listener's observer must see the first charger arrive.
  const admin = inWorker ? undefined : adminFor(config, proxy, rootLog);
  // A worker answers the primary's admin listener instead; in the same tick as listen() below (see serveAdminToPrimary).
  const workerAdmin = inWorker ? workerAdminFor(config, proxy, rootLog) : undefined;
  // Handlers go in before listening: a signal during start-up must also stop cleanly.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    /** Real signals received; the cluster primary's shutdown request is not one. */
    let signals = 0;
    let firstSignalAt: number | undefined;
    const stop = (signal: NodeJS.Signals | 'shutdown-request'): void => {
      if (signal !== 'shutdown-request') {
        const now = performance.now();
        if (firstSignalAt !== undefined && now - firstSignalAt < SIGNAL_COPY_WINDOW_MS) return;
        firstSignalAt ??= now;
        signals += 1;
      }
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

  // The admin listener first: if its port is taken, the start fails before any charger could connect. (In a
  // worker there is none, and nothing is awaited here: see serveAdminToPrimary.)
  if (admin !== undefined) {
    try {
      await admin.listen();
    } catch (error) {
      await admin.close();
      await proxy.close();
      return startupFailed(explainAdminListenFailure(error, { port: config.admin_port, host: config.admin_host }));
    }
  }
  let address;
  try {
    address = await proxy.listen();
  } catch (error) {
    await admin?.close();
    workerAdmin?.close();
    return startupFailed(explainStartupFailure(error, { port: config.port, host: config.host, dataDir: config.data_dir }));
  }
  // For the container HEALTHCHECK: the port really bound, whichever way it was configured.
  const listenFile = publishListenAddress(env, address, log, { tls: config.tls_cert_file !== undefined });
  const code = await stopped;
  await admin?.close();
  workerAdmin?.close();
  withdrawListenAddress(listenFile, log);
  return code;
}

/** The admin listener (dashboard, status API, metrics) of a single process, unless admin_port is 0. */
function adminFor(config: Config, proxy: Proxy, rootLog: Logger): AdminServer | undefined {
  if (config.admin_port === 0) return undefined;
  return createAdminServer({ proxy, config, log: taggedLogger(rootLog, 'admin') });
}

/**
 * With several workers, the primary opens the one admin listener and asks every worker (each holds only its own
 * chargers); the workers open no port.
 */
function clusterAdminFor(config: Config, rootLog: Logger): { server: AdminServer; backend: ClusterBackend } | undefined {
  if (config.admin_port === 0) return undefined;
  const log = taggedLogger(rootLog, 'admin');
  const backend = new ClusterBackend({ config, log });
  return { server: createAdminServer({ backend, config, log }), backend };
}

/** A worker's answers to the primary's admin listener, unless admin_port is 0 (then the primary asks nothing). */
function workerAdminFor(config: Config, proxy: Proxy, rootLog: Logger): AdminWorkerLink | undefined {
  if (config.admin_port === 0) return undefined;
  const log = taggedLogger(rootLog, 'admin');
  return serveAdminToPrimary(new LocalBackend({ proxy, config, log }), { log });
}

/** One line on stderr, the cause and the fix; no stack: the operator has something to change, not a bug to report. */
function startupFailed(failure: { message: string; exitCode: number }): number {
  process.stderr.write(`ocpp-splitter: ${failure.message}\n`);
  return failure.exitCode;
}

/** The cluster primary: runs the workers until SIGTERM/SIGINT, then stops them all. */
function superviseUntilStopped(workers: number, log: ReturnType<typeof taggedLogger>, admin: ClusterBackend | undefined): Promise<number> {
  const supervisor = superviseWorkers(workers, log, { admin });
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
