/**
 * Why the proxy could not start, as one line for stderr that names the cause and the fix, and the exit code
 * that tells a supervisor what to do: 78 (EX_CONFIG, sysexits.h) when the operator must change something
 * first — the configuration, the data directory's permissions, the port — so that systemd
 * (`RestartPreventExitStatus=78`) and people reading `docker logs` see a reason instead of a restart loop;
 * 1 for anything else.
 */
import { once } from 'node:events';
import { accessSync, constants, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, parse, resolve } from 'node:path';
import { ConfigError, ErrorCode, StoreError } from './errors.js';
import { DEFAULT_STORE_FILE_NAME } from './store/sqlite-store.js';

export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 78;

/** Where the data directory is set, for the fix. */
const DATA_DIR_SETTINGS = 'DATA_DIR / --data-dir / data_dir';
const PORT_SETTINGS = 'PORT / --port / port';
const HOST_SETTINGS = '--host / host';
/** The user the official image runs as (`USER node` in the Dockerfile). */
const DOCKER_UID = 1000;
/** Ports below this need privileges on Linux (or CAP_NET_BIND_SERVICE). */
const FIRST_UNPRIVILEGED_PORT = 1024;

export interface StartupFailure {
  /** One line, without the program name and the newline. */
  readonly message: string;
  readonly exitCode: number;
}

export interface StartupContext {
  readonly port: number;
  readonly host: string | undefined;
  readonly dataDir: string;
}

/**
 * What would stop every worker of a cluster from starting, found once by the cluster primary before it forks
 * them (each would otherwise print the same line): an unusable data directory (when secondaries need the
 * store) and a port that cannot be listened on. Undefined when neither is found.
 */
export async function checkBeforeForking(context: StartupContext & { readonly needsStore: boolean }): Promise<StartupFailure | undefined> {
  const dataDirProblem = context.needsStore ? diagnoseDataDir(context.dataDir) : undefined;
  if (dataDirProblem !== undefined) return { message: dataDirProblem, exitCode: EXIT_CONFIG };
  // Port 0 is a different free port for each listen: nothing to check.
  if (context.port === 0) return undefined;
  const probe = createServer();
  try {
    probe.listen({ port: context.port, host: context.host });
    await once(probe, 'listening');
    return undefined;
  } catch (error) {
    return explainStartupFailure(error, context);
  } finally {
    probe.close();
  }
}

/** Explains an error from `proxy.listen()`; never throws. */
export function explainStartupFailure(error: unknown, context: StartupContext): StartupFailure {
  // Found once files the configuration names were read (TLS certificates and keys): its message names the option.
  if (error instanceof ConfigError) return { message: oneLine(error.message), exitCode: EXIT_CONFIG };
  if (error instanceof StoreError && error.code === ErrorCode.StoreUnavailable) {
    const problem = diagnoseDataDir(context.dataDir);
    // A usable directory with a store that still cannot be opened: a corrupt file, a newer schema. The store's
    // message names the file and the reason; the operator still has to act, so it is EX_CONFIG too.
    return { message: problem ?? `${oneLine(error.message)} (data directory ${resolve(context.dataDir)})`, exitCode: EXIT_CONFIG };
  }
  const listen = explainListenError(error, context);
  if (listen !== undefined) return { message: listen, exitCode: EXIT_CONFIG };
  return { message: `cannot start: ${oneLine(error instanceof Error ? error.message : String(error))}`, exitCode: EXIT_FAILURE };
}

/**
 * What stops this process from keeping its store in `dataDir`, as the start of a one-line message with the
 * fix, or undefined when the directory is (or can be made) usable. Checks what the store needs: a directory
 * it can create files in (the database and its -wal and -shm files) and a database file it can write.
 */
export function diagnoseDataDir(dataDir: string): string | undefined {
  const dir = resolve(dataDir);
  const uid = currentUid();
  const intro = `cannot use the data directory ${dir}${uid === undefined ? '' : ` as uid ${uid}`}`;
  const asFile = fileInTheWay(dir);
  if (asFile !== undefined) {
    const what = asFile === dir ? 'it is a file, not a directory' : `${asFile} is a file, not a directory`;
    return `${intro}: ${what}. Set ${DATA_DIR_SETTINGS} to a directory`;
  }
  const existing = nearestExisting(dir);
  if (existing === undefined) return undefined;
  if (existing !== dir) {
    const denied = writeDenied(existing);
    if (denied === undefined) return undefined;
    return `${intro}: it does not exist, and ${existing} ${denied}, so it cannot be created. Create it and ${permissionFix(dir)}`;
  }
  const denied = writeDenied(dir);
  if (denied !== undefined) return `${intro}: it ${denied}. ${capitalise(permissionFix(dir))}`;
  const store = join(dir, DEFAULT_STORE_FILE_NAME);
  const storeDenied = exists(store) ? writeDenied(store) : undefined;
  if (storeDenied !== undefined) return `${intro}: its store file ${store} ${storeDenied}. ${capitalise(permissionFix(dir))}`;
  return undefined;
}

function permissionFix(dir: string): string {
  const uid = currentUid();
  const owner = uid === undefined ? 'for the user running ocpp-splitter' : `for uid ${uid} (e.g. sudo chown -R ${uid} ${dir})`;
  return (
    `make it writable ${owner}, or set ${DATA_DIR_SETTINGS} to a directory that is; ` +
    `in Docker the mounted directory must be writable by uid ${DOCKER_UID} (on the host: chown -R ${DOCKER_UID}:${DOCKER_UID} <directory>)`
  );
}

/** "is not writable", "is on a read-only file system", or undefined when this process may write it. */
function writeDenied(path: string): string | undefined {
  try {
    // X as well for a directory: creating a file in it needs both.
    accessSync(path, statSync(path).isDirectory() ? constants.W_OK | constants.X_OK : constants.W_OK);
    return undefined;
  } catch (error) {
    return errorCode(error) === 'EROFS' ? 'is on a read-only file system' : 'is not writable';
  }
}

/** The first path component that exists but is not a directory (the whole path included), if any. */
function fileInTheWay(dir: string): string | undefined {
  const { root } = parse(dir);
  const parts = dir.slice(root.length).split(/[\\/]/).filter((part) => part !== '');
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    const stats = statOrUndefined(current);
    if (stats === undefined) return undefined;
    if (!stats.isDirectory()) return current;
  }
  return undefined;
}

/** `dir` itself or its nearest ancestor that exists. */
function nearestExisting(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    if (exists(current)) return current;
    if (dirname(current) === current) return undefined;
  }
}

/** True unless nothing is there; a path this user cannot reach counts as there (writeDenied then says so). */
function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ENOENT';
  }
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    // Missing, or not reachable (EACCES on a parent): not a file in the way; exists() and writeDenied() tell the rest.
    return undefined;
  }
}

/** The cause and the fix of the usual errors of `server.listen()`, or undefined for any other error. */
interface ListenSettings {
  /** 'listen on' or 'open the admin listener on'. */
  readonly what: string;
  readonly port: string;
  readonly host: string;
  readonly defaultPort: number;
  /** What else the operator may do, at the end of the port advice. */
  readonly orElse: string;
  /** Whether leaving the host unset (all addresses) is a way out. */
  readonly hostMayBeUnset: boolean;
}

const CHARGER_LISTEN: ListenSettings = { what: 'listen on', port: PORT_SETTINGS, host: HOST_SETTINGS, defaultPort: 9000, orElse: '', hostMayBeUnset: true };
const ADMIN_LISTEN: ListenSettings = {
  what: 'open the admin listener on',
  port: 'admin_port (ADMIN_PORT, --admin-port)',
  host: 'admin_host (ADMIN_HOST, --admin-host)',
  defaultPort: 9001,
  orElse: ', or 0 to turn the admin listener off',
  hostMayBeUnset: false,
};

/** Explains an error from the admin listener's `listen()` (a port in use, a bad address); never throws. */
export function explainAdminListenFailure(error: unknown, context: { readonly port: number; readonly host: string }): StartupFailure {
  const listen = explainListenError(error, { ...context, dataDir: '' }, ADMIN_LISTEN);
  if (listen !== undefined) return { message: listen, exitCode: EXIT_CONFIG };
  return { message: `cannot open the admin listener: ${oneLine(error instanceof Error ? error.message : String(error))}`, exitCode: EXIT_FAILURE };
}

function explainListenError(error: unknown, context: StartupContext, settings: ListenSettings = CHARGER_LISTEN): string | undefined {
  const code = errorCode(error);
  const where = context.host === undefined ? `port ${context.port}` : `${context.host} port ${context.port}`;
  const { what, orElse } = settings;
  switch (code) {
    case 'EADDRINUSE':
      return `cannot ${what} ${where}: another program is using it (EADDRINUSE). Stop it, or set ${settings.port} to a free port${orElse}`;
    case 'EACCES':
      return context.port < FIRST_UNPRIVILEGED_PORT && context.port !== 0
        ? `cannot ${what} ${where}: ports below ${FIRST_UNPRIVILEGED_PORT} need root or CAP_NET_BIND_SERVICE (EACCES). Set ${settings.port} to ${FIRST_UNPRIVILEGED_PORT} or above (the default is ${settings.defaultPort})${orElse}`
        : `cannot ${what} ${where}: permission denied (EACCES). Set ${settings.port} to another port${orElse}`;
    case 'EADDRNOTAVAIL':
      return `cannot ${what} ${where}: ${String(context.host)} is not an address of this machine (EADDRNOTAVAIL). Set ${settings.host} to one of its addresses${settings.hostMayBeUnset ? ', or leave it unset for all of them' : ''}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot ${what} ${where}: the host name ${String(context.host)} does not resolve (${code}). Set ${settings.host} to an address of this machine${settings.hostMayBeUnset ? ', or leave it unset' : ''}`;
    default:
      return undefined;
  }
}

function errorCode(error: unknown): string | undefined {
  const code: unknown = error instanceof Error ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' ? code : undefined;
}

function currentUid(): number | undefined {
  // Not on Windows.
  return process.getuid?.();
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
