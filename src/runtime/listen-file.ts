/**
 * Where the running proxy really listens, written down for the container HEALTHCHECK.
 *
 * `main` writes `<RUNTIME_DIR>/listen-<pid>.json` once its server listens and removes it when the process
 * stops; `healthcheck.js` asks `GET /healthz` at every address written there by a process that is still
 * alive. The probe therefore follows the port the proxy bound, however it was chosen (`--port`, `PORT`, a
 * config file, port 0), and needs none of the proxy's configuration (a primary given only as a flag is fine).
 *
 * Process plumbing, like signals: the library (`createProxy`) never touches it.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../logging/logger.js';

/** The environment variable naming the directory; unset means no file is written. */
export const RUNTIME_DIR_ENV = 'RUNTIME_DIR';

const FILE_PREFIX = 'listen-';
const FILE_SUFFIX = '.json';

/** What one listening process wrote. */
export interface ListenRecord {
  readonly pid: number;
  /** The bound address as the server reports it: `0.0.0.0` and `::` mean every interface. */
  readonly address: string;
  readonly port: number;
  /** The port speaks TLS (`tls_cert_file`): the probe uses https. Absent in files written before TLS existed. */
  readonly tls?: boolean;
}

export interface ListenRecords {
  /** Records of processes that are still running. */
  readonly live: ListenRecord[];
  /** Files that are unreadable, malformed, or left behind by a process that is gone: one line each. */
  readonly skipped: string[];
}

export function listenFilePath(dir: string, pid: number): string {
  return join(dir, `${FILE_PREFIX}${String(pid)}${FILE_SUFFIX}`);
}

/**
 * Writes this process's record (atomically: a reader never sees half a file) and removes the files of
 * processes that are gone. Returns the file's path, for {@link removeListenFile}.
 * @throws the file system's error when the directory cannot be created or written.
 */
export function writeListenFile(dir: string, record: ListenRecord): string {
  mkdirSync(dir, { recursive: true });
  removeStaleFiles(dir);
  const path = listenFilePath(dir, record.pid);
  const partial = `${path}.partial`;
  writeFileSync(partial, `${JSON.stringify(record)}\n`);
  renameSync(partial, path);
  return path;
}

/** Removes a file written by {@link writeListenFile}; a file that is already gone is fine. */
export function removeListenFile(path: string): void {
  rmSync(path, { force: true });
}

/**
 * For `main`, once listening: writes this process's address when `RUNTIME_DIR` is set. A failure is logged
 * and the proxy carries on (only the HEALTHCHECK needs the file, and it then says what is missing).
 * @returns the file to remove at the end, if one was written.
 */
export function publishListenAddress(
  env: Record<string, string | undefined>,
  address: AddressInfo,
  log: Logger,
  options: { readonly tls?: boolean } = {},
): string | undefined {
  const dir = env[RUNTIME_DIR_ENV];
  if (dir === undefined || dir === '') return undefined;
  try {
    const path = writeListenFile(dir, { pid: process.pid, address: address.address, port: address.port, ...(options.tls === true ? { tls: true } : {}) });
    log.debug({ path }, 'listen address written');
    return path;
  } catch (error) {
    log.warn({ err: error, runtime_dir: dir }, 'cannot write the listen file for the healthcheck');
    return undefined;
  }
}

/** For `main`, once stopped: removes the file {@link publishListenAddress} wrote. */
export function withdrawListenAddress(path: string | undefined, log: Logger): void {
  if (path === undefined) return;
  try {
    removeListenFile(path);
  } catch (error) {
    log.warn({ err: error, path }, 'cannot remove the listen file');
  }
}

/** Every record in `dir`, split into those of running processes and the rest. A missing directory has none. */
export function readListenRecords(dir: string): ListenRecords {
  const live: ListenRecord[] = [];
  const skipped: string[] = [];
  for (const name of listenFileNames(dir)) {
    const path = join(dir, name);
    let record: ListenRecord | undefined;
    try {
      record = parseRecord(readFileSync(path, 'utf8'));
    } catch (error) {
      // Removed between listing and reading (its process stopped): nothing to report.
      if (errorCode(error) === 'ENOENT') continue;
      skipped.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (record === undefined) skipped.push(`${path}: not a listen record`);
    else if (!isProcessAlive(record.pid)) skipped.push(`${path}: process ${String(record.pid)} is gone`);
    else live.push(record);
  }
  return { live, skipped };
}

/** Whether a process with this id exists (it may belong to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}

function listenFileNames(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  return names.filter((name) => name.startsWith(FILE_PREFIX) && name.endsWith(FILE_SUFFIX)).sort();
}

function removeStaleFiles(dir: string): void {
  for (const name of listenFileNames(dir)) {
    const pid = Number(name.slice(FILE_PREFIX.length, -FILE_SUFFIX.length));
    if (Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid)) rmSync(join(dir, name), { force: true });
  }
}

function parseRecord(text: string): ListenRecord | undefined {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || !('pid' in value) || !('address' in value) || !('port' in value)) return undefined;
  const { pid, address, port } = value;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (typeof address !== 'string' || typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65_535) return undefined;
  const tls = 'tls' in value && value.tls === true;
  return tls ? { pid, address, port, tls } : { pid, address, port };
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
}
