/**
 * The process-wide side of mirroring: the durable store, the memory budget, this
 * process's charger leases, the counters and the store's upkeep (pruning). Each
 * charger session asks it for a `SessionMirror`. Exists only when secondaries are
 * configured.
 */
import type { Config, SecondaryConfig } from '../config/schema.js';
import { channels } from '../diagnostics/channels.js';
import type { FrameCounts } from '../diagnostics/frame-counts.js';
import type { Keepalive } from '../links/keepalive.js';
import type { Logger } from '../logging/logger.js';
import type { OcppVersion } from '../ocpp/error-codes.js';
import { openSqliteStore, secondaryStoreKey } from '../store/sqlite-store.js';
import type { MirrorStore, PruneReport, StreamBacklog } from '../store/store.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';
import type { MirrorCounters } from './counters.js';
import { LeaseKeeper, processOwnerId } from './lease-keeper.js';
import { MemoryBudget } from './memory-budget.js';
import { secondaryLabel, type MirrorTiming } from './secondary-link.js';
import { SessionMirror } from './session-mirror.js';

/** A link that stayed up this long resets its reconnect backoff (see UpstreamLink). */
export const LINK_STABLE_AFTER_MS = 60_000;
/** How often the store is pruned (and once shortly after start). */
const PRUNE_INTERVAL_MS = 60 * 60_000;
const FIRST_PRUNE_DELAY_MS = 10_000;
/** Stopped transaction links stay this long, so that a resent StopTransaction still finds its secondary's id. */
export const STOPPED_LINK_GRACE_MS = 24 * 60 * 60_000;
const DAY_MS = 24 * 60 * 60_000;
/** While the store keeps failing, one error line a minute (every retry is logged at debug). */
const STORE_FAILURE_REMINDER_MS = 60_000;

export interface MirrorServiceOptions {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly counters: MirrorCounters;
  readonly keepalive: Keepalive;
  /** A store made by the caller (tests, the benchmark's in-memory reference); else the SQLite file in data_dir. */
  readonly store?: MirrorStore;
  /** Overrides for tests (e.g. a shorter stable period). */
  readonly timing?: Partial<MirrorTiming>;
  /** The TLS options of the secondaries that have any (`secondary_csms[].ca_file` …), read at start. */
  readonly secondaryTls?: ReadonlyMap<SecondaryConfig, UpstreamTls>;
}

export interface SessionMirrorRequest {
  readonly chargerId: string;
  readonly urlSegment: string;
  readonly subprotocol: string;
  readonly version: OcppVersion;
  readonly chargerAuthorization: string | undefined;
  readonly log: Logger;
  readonly sendToCharger: (text: string) => boolean;
  /** The session's frame counters: the secondaries' frames are counted there too. */
  readonly frameCounts?: FrameCounts;
}

export class MirrorService {
  readonly store: MirrorStore;
  readonly leases: LeaseKeeper;
  readonly budget: MemoryBudget;
  readonly #o: MirrorServiceOptions;
  readonly #timing: MirrorTiming;
  #pruneTimer: NodeJS.Timeout | undefined;
  /** When the store's commits started failing (undefined while they succeed), and when that was last logged. */
  #failingSince: number | undefined;
  #lastFailureLogAt = 0;
  #closed: Promise<void> | undefined;
  /** Labels of the secondaries the operator paused (admin API); lasts until resumed or the process ends. */
  readonly #paused = new Set<string>();
  /** Every session mirror still open, to pause and resume their links. */
  readonly #mirrors = new Set<SessionMirror>();

  /** Opens the store (throws StoreError naming the file when it cannot be opened). */
  constructor(options: MirrorServiceOptions) {
    this.#o = options;
    const { config, log, counters } = options;
    this.store =
      options.store ??
      openSqliteStore({
        dataDir: config.data_dir,
        commitIntervalMs: config.store_commit_interval_ms,
        maxPendingBytes: config.mirror_memory_max_bytes,
        onWriteError: (error, pendingWrites) => {
          counters.storeWriteErrors += 1;
          channels.storeError.publish({ engine: 'sqlite', code: error.code, pendingWrites });
          // A lock or a full disk fails every retry: the first failure of a streak is news, then a reminder a minute.
          const now = Date.now();
          const first = this.#failingSince === undefined;
          this.#failingSince ??= now;
          const remind = now - this.#lastFailureLogAt >= STORE_FAILURE_REMINDER_MS;
          const fields = { code: error.code, error: error.message, pending_writes: pendingWrites, failing_for_ms: now - this.#failingSince };
          if (first || remind) {
            this.#lastFailureLogAt = now;
            log.error(fields, 'store write failed; keeping the writes in memory and retrying');
          } else {
            log.debug(fields, 'store write failed again');
          }
        },
        onCommit: ({ durationMs, writes }) => {
          if (this.#failingSince !== undefined) {
            log.info({ failing_for_ms: Date.now() - this.#failingSince }, 'store writes recovered');
            this.#failingSince = undefined;
            this.#lastFailureLogAt = 0;
          }
          channels.storeCommit.publish({ engine: 'sqlite', durationMs, writes });
        },
      });
    this.budget = new MemoryBudget(config.mirror_memory_max_bytes);
    this.leases = new LeaseKeeper(this.store, processOwnerId(), config.lease_ttl_ms, log);
    this.#timing = {
      connectTimeoutMs: config.secondary_connect_timeout_ms,
      reconnectDelayMs: config.secondary_reconnect_delay_ms,
      reconnectMaxDelayMs: config.secondary_reconnect_max_delay_ms,
      stableAfterMs: LINK_STABLE_AFTER_MS,
      answerTimeoutMs: config.secondary_answer_timeout_ms,
      maxAttempts: config.secondary_max_attempts,
      queueLimit: config.secondary_queue_limit,
      queueMaxBytes: config.secondary_queue_max_bytes,
      maxPayload: config.max_message_size_bytes,
      perMessageDeflate: config.permessage_deflate,
      ...options.timing,
    };
    this.#pruneTimer = setTimeout(() => this.#pruneEvery(), FIRST_PRUNE_DELAY_MS).unref();
  }

  createSessionMirror(request: SessionMirrorRequest): SessionMirror {
    const mirror = new SessionMirror({
      ...request,
      isPaused: (label) => this.#paused.has(label),
      secondaries: this.#o.config.secondary_csms,
      secondaryTls: this.#o.secondaryTls,
      store: this.store,
      budget: this.budget,
      lease: this.leases.hold(request.chargerId),
      keepalive: this.#o.keepalive,
      counters: this.#o.counters,
      timing: this.#timing,
    });
    this.#mirrors.add(mirror);
    void mirror.closing.then(() => this.#mirrors.delete(mirror));
    return mirror;
  }

  /** The labels of the configured secondaries (their `name`, else the redacted URL), in config order. */
  get secondaryLabels(): readonly string[] {
    return this.#o.config.secondary_csms.map((secondary) => secondaryLabel(secondary));
  }

  isPaused(label: string): boolean {
    return this.#paused.has(label);
  }

  /**
   * Pauses or resumes one secondary for every charger, now and for chargers that connect later.
   * Returns false when no configured secondary has this label.
   */
  setPaused(label: string, paused: boolean): boolean {
    if (!this.secondaryLabels.includes(label)) return false;
    if (paused === this.#paused.has(label)) return true;
    if (paused) this.#paused.add(label);
    else this.#paused.delete(label);
    this.#o.log.info({ secondary: label, chargers: this.#mirrors.size }, paused ? 'secondary paused for every charger' : 'secondary resumed for every charger');
    for (const mirror of this.#mirrors) mirror.setPaused(label, paused);
    return true;
  }

  /** What waits for the secondaries in the store, per (charger, secondary) outbox. */
  backlog(): Promise<readonly StreamBacklog[]> {
    return this.store.backlog();
  }

  /** Removes what is stale (see PrunePolicy) and says what it removed. */
  async prune(now = Date.now()): Promise<PruneReport> {
    const { config, log } = this.#o;
    const report = await this.store.prune({
      now,
      retentionMs: config.store_retention_days * DAY_MS,
      stoppedLinkGraceMs: STOPPED_LINK_GRACE_MS,
      configuredSecondaries: config.secondary_csms.map((secondary) => secondaryStoreKey(secondary)),
    });
    const total = report.staleOutboxEntries + report.orphanOutboxEntries + report.transactionLinks + report.remoteStarts + report.lastBoots;
    if (total > 0) {
      log.info(
        {
          stale_outbox_entries: report.staleOutboxEntries,
          orphan_outbox_entries: report.orphanOutboxEntries,
          transaction_links: report.transactionLinks,
          remote_starts: report.remoteStarts,
          last_boots: report.lastBoots,
          retention_days: config.store_retention_days,
        },
        'store pruned',
      );
    }
    return report;
  }

  /** Commits every store write made so far (before handing a charger to a sibling process). */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /** Releases the leases and closes the store; idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearTimeout(this.#pruneTimer);
      // The releases are queued store writes: the store's close commits them with the rest (within its own
      // deadline), so they are not awaited first — a locked store would otherwise hold the shutdown.
      const released = this.leases.close();
      await this.store.close();
      await released;
    })();
    return this.#closed;
  }

  #pruneEvery(): void {
    this.prune()
      .catch((error: unknown) => this.#o.log.warn({ err: error }, 'store could not be pruned; trying again later'))
      .finally(() => {
        if (this.#closed === undefined) this.#pruneTimer = setTimeout(() => this.#pruneEvery(), PRUNE_INTERVAL_MS).unref();
      });
  }
}
