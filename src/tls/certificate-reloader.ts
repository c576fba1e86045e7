/**
 * Keeps the listener's certificate current without a restart: certificates are renewed every few weeks (Let's
 * Encrypt, Home Assistant's /ssl, a Kubernetes secret), and a restart would drop every charger.
 *
 * The directories holding the files are watched, not the files: renewal tools replace a file by renaming a new
 * one over it (or swap a symlink, as certbot and Kubernetes do), after which a watch on the old file sees
 * nothing more. A slow poll backs the watch up where it sees nothing at all (some network and container file
 * systems). Either only says "look again": the files are read after they have been quiet for a moment, and
 * taken only if they work together — a key that does not fit the certificate, or a file half written, keeps
 * the certificate in use and logs an error. Connections already open are never touched.
 */
import { createHash } from 'node:crypto';
import { realpathSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from '../logging/logger.js';
import { readFileBytes, summarise, type ReadFile } from './pem-files.js';
import { readServerCredentials, type ServerCredentials, type ServerTlsFiles } from './server-tls.js';

/** The backstop poll: a renewed certificate is in use within this long even where no change is notified. */
export const CERTIFICATE_POLL_INTERVAL_MS = 60_000;
/** Quiet time after a change before the files are read: a renewal writes the certificate and the key one after the other. */
export const CERTIFICATE_SETTLE_MS = 500;

export type ReloadOutcome = 'unchanged' | 'reloaded' | 'failed';

export interface CertificateReloaderOptions {
  readonly files: ServerTlsFiles;
  /** What the listener was started with. */
  readonly current: ServerCredentials;
  /** Puts new credentials in use (`server.setSecureContext`); throws when they are refused. */
  readonly apply: (credentials: ServerCredentials) => void;
  readonly log: Logger;
  readonly pollIntervalMs?: number;
  readonly settleMs?: number;
  readonly readFile?: ReadFile;
}

export class CertificateReloader {
  readonly #o: CertificateReloaderOptions;
  readonly #readFile: ReadFile;
  readonly #watchers: FSWatcher[] = [];
  /** Digest of the files' bytes as last put in use, or as last found broken: unchanged files are not read twice. */
  #inUse: string;
  #lastFailure: string | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #settleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: CertificateReloaderOptions) {
    this.#o = options;
    this.#readFile = options.readFile ?? readFileBytes;
    const { current } = options;
    this.#inUse = digest([current.cert, current.key, current.ca]);
  }

  /** Starts watching the files' directories and polling. Idempotent; nothing after close(). */
  start(): void {
    if (this.#closed || this.#pollTimer !== undefined) return;
    for (const dir of this.#directories()) this.#watch(dir);
    this.#pollTimer = setInterval(() => this.check(), this.#o.pollIntervalMs ?? CERTIFICATE_POLL_INTERVAL_MS);
    this.#pollTimer.unref();
  }

  /**
   * Reads the files and, when they changed, puts them in use if they work together. What a change notification
   * leads to (after the settle time) and what the poll does; public for tests and an operator's command.
   */
  check(): ReloadOutcome {
    if (this.#closed) return 'unchanged';
    const { files, log } = this.#o;
    let bytes: string;
    try {
      bytes = digest([this.#readFile(files.cert.path), this.#readFile(files.key.path), files.ca === undefined ? undefined : this.#readFile(files.ca.path)]);
    } catch (error) {
      // Mid-rename, a file may be missing for an instant: reported once per distinct problem.
      return this.#failed(`unreadable:${errorMessage(error)}`, error);
    }
    if (bytes === this.#inUse) {
      this.#lastFailure = undefined;
      return 'unchanged';
    }
    if (bytes === this.#lastFailure) return 'failed';
    let credentials: ServerCredentials;
    try {
      credentials = readServerCredentials(files, this.#readFile);
      this.#o.apply(credentials);
    } catch (error) {
      return this.#failed(bytes, error);
    }
    this.#inUse = digest([credentials.cert, credentials.key, credentials.ca]);
    this.#lastFailure = undefined;
    log.info({ certificate: summarise(credentials.leaf), file: files.cert.path }, 'TLS certificate reloaded');
    return 'reloaded';
  }

  /** Stops watching and polling. Idempotent. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#settleTimer);
    for (const watcher of this.#watchers.splice(0)) watcher.close();
  }

  #failed(signature: string, error: unknown): ReloadOutcome {
    if (signature !== this.#lastFailure) {
      this.#lastFailure = signature;
      this.#o.log.error({ err: errorMessage(error), file: this.#o.files.cert.path }, 'TLS certificate reload failed: the certificate in use stays');
    }
    return 'failed';
  }

  /** Each file's directory, and that of the file it links to (certbot's live/ links into archive/). */
  #directories(): Set<string> {
    const { cert, key, ca } = this.#o.files;
    const dirs = new Set<string>();
    for (const file of [cert, key, ca]) {
      if (file === undefined) continue;
      const path = resolve(file.path);
      dirs.add(dirname(path));
      try {
        dirs.add(dirname(realpathSync(path)));
      } catch {
        // Gone for the moment (a renewal in progress): its own directory is watched, which is where it comes back.
      }
    }
    return dirs;
  }

  #watch(dir: string): void {
    let watcher: FSWatcher;
    try {
      // Not persistent: watching alone never keeps the process alive.
      watcher = watch(dir, { persistent: false }, () => this.#changed());
    } catch (error) {
      this.#o.log.warn({ err: errorMessage(error), dir }, 'cannot watch a TLS file\'s directory: a renewed certificate is picked up by the poll');
      return;
    }
    watcher.on('error', (error) => {
      this.#o.log.warn({ err: errorMessage(error), dir }, 'stopped watching a TLS file\'s directory: a renewed certificate is picked up by the poll');
      watcher.close();
    });
    this.#watchers.push(watcher);
  }

  #changed(): void {
    if (this.#closed) return;
    clearTimeout(this.#settleTimer);
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = undefined;
      this.check();
    }, this.#o.settleMs ?? CERTIFICATE_SETTLE_MS);
    this.#settleTimer.unref();
  }
}

function digest(parts: ReadonlyArray<Buffer | undefined>): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    // The length first: the boundaries between the files count too.
    hash.update(String(part?.length ?? -1)).update(':');
    if (part !== undefined) hash.update(part);
  }
  return hash.digest('hex');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
