/**
 * The locked-store scenario: chargers at a steady, moderate rate through a proxy
 * with durable secondaries, while ANOTHER process holds the write lock of the
 * proxy's SQLite file for a few seconds. Two checks:
 *
 *   latency   the charger ↔ primary round trips in flight during the lock keep a
 *             p99 under {@link LOCKED_P99_TARGET_MS}: a locked store may delay the
 *             mirror, never the primary path;
 *   delivery  once the lock is gone, every secondary gets every CALL each charger
 *             sent, first arrivals in sending order (re-sends after a reconnect may
 *             repeat one: counted, not a failure), within the plan's timeout.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_STORE_FILE_NAME } from '../../src/store/sqlite-store.js';
import { connectFleet, type PacedCall } from './chargers.js';
import { startCsmsProcess, startProxyProcess, startStoreLocker, waitFor } from './processes.js';

export const LOCKED_P99_TARGET_MS = 50;
/** How often the delivery check asks the CSMS process what arrived. */
const DELIVERY_POLL_MS = 100;
/** The store file appears when the proxy opens it (at listen, or with the first charger). */
const STORE_FILE_TIMEOUT_MS = 10_000;

export interface LockedStorePlan {
  readonly chargers: number;
  readonly secondaries: number;
  /** Each charger sends one CALL per interval. */
  readonly intervalMs: number;
  /** Traffic before anything is measured. */
  readonly warmupMs: number;
  /** Measured traffic before the lock is taken. */
  readonly beforeMs: number;
  /** How long the other process holds `BEGIN IMMEDIATE`. */
  readonly holdMs: number;
  /** Traffic after the planned release. */
  readonly afterMs: number;
  /** After the traffic stops: how long the secondaries may take to get everything. */
  readonly deliveryTimeoutMs: number;
}

/** `taskset` core lists; unpinned when undefined. */
export interface LockedStoreCores {
  readonly proxy?: string;
  readonly csms?: string;
  readonly locker?: string;
}

export interface LatencySummary {
  readonly calls: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface SecondaryDelivery {
  readonly secondary: string;
  /** CALLs the chargers sent (all of them, warm-up included). */
  readonly sent: number;
  /** Distinct sent CALLs that arrived. */
  readonly received: number;
  readonly missing: number;
  /** CALLs whose first arrival came after a CALL the same charger sent later. */
  readonly outOfOrder: number;
  /** Repeated arrivals of a CALL that had already arrived. */
  readonly duplicates: number;
  /** Arrivals with an id no charger sent. */
  readonly unexpected: number;
}

export interface LockedStoreResult extends LockedStorePlan {
  /** From the locker's "locked" report to its "released" report, as seen by the generator. */
  readonly lockHeldMs: number;
  readonly callsSent: number;
  /** CALLs the primary path never answered (counted as infinitely late). */
  readonly unanswered: number;
  /** Round trips after the warm-up that were in flight at any moment of the lock. */
  readonly duringLock: LatencySummary;
  /** Every other round trip after the warm-up: `beforeLock` and `afterLock` together. */
  readonly outsideLock: LatencySummary;
  /** Answered before the lock was taken. */
  readonly beforeLock: LatencySummary;
  /** Sent after the lock was let go: the proxy catching up with what the lock held back. */
  readonly afterLock: LatencySummary;
  readonly deliveries: readonly SecondaryDelivery[];
  /**
   * From the end of the traffic (the last answer back) to the first check that found
   * every CALL at every secondary: 0 when they had kept up; undefined when never.
   */
  readonly deliveredAfterTrafficMs: number | undefined;
  readonly latencyPass: boolean;
  readonly deliveryPass: boolean;
}

export async function runLockedStore(plan: LockedStorePlan, cores: LockedStoreCores = {}): Promise<LockedStoreResult> {
  const csmsProcess = await startCsmsProcess(1 + plan.secondaries, cores.csms, { record: true });
  const [primary, ...secondaries] = csmsProcess.csmss;
  if (primary === undefined) throw new Error('no CSMS');
  const dataDir = mkdtempSync(join(tmpdir(), 'ocpp-splitter-bench-lock-'));
  try {
    const proxy = await startProxyProcess(
      {
        primary_csms_url: primary.url,
        secondary_csms: secondaries.map((secondary, i) => ({ url: secondary.url, name: `s${i}` })),
        data_dir: dataDir,
      },
      { cores: cores.proxy },
    );
    try {
      const fleet = await connectFleet(`ws://127.0.0.1:${proxy.port}`, plan.chargers, { prefix: 'LOCK-' });
      try {
        await waitFor(async () => (await csmsProcess.counts()).slice(1).every((count) => count >= plan.chargers));
        const storeFile = join(dataDir, DEFAULT_STORE_FILE_NAME);
        await waitFor(() => existsSync(storeFile), STORE_FILE_TIMEOUT_MS, `the proxy never created its store ${storeFile}`);
        const locker = await startStoreLocker(storeFile, cores.locker);
        try {
          const started = performance.now();
          const measureFrom = started + plan.warmupMs;
          const [paced, lock] = await Promise.all([
            fleet.runPaced({
              intervalMs: plan.intervalMs,
              durationMs: plan.warmupMs + plan.beforeMs + plan.holdMs + plan.afterMs,
              drainTimeoutMs: plan.deliveryTimeoutMs,
            }),
            new Promise((resolve) => setTimeout(resolve, plan.warmupMs + plan.beforeMs)).then(() => locker.hold(plan.holdMs)),
          ]);
          const measured = paced.calls.filter((call) => call.sentAt >= measureFrom);
          const inLock = (call: PacedCall): boolean => call.sentAt <= lock.releasedAt && !(call.answeredAt < lock.lockedAt);
          const duringLock = summariseLatency(measured.filter(inLock));
          const outside = measured.filter((call) => !inLock(call));
          const outsideLock = summariseLatency(outside);
          const beforeLock = summariseLatency(outside.filter((call) => call.sentAt < lock.lockedAt));
          const afterLock = summariseLatency(outside.filter((call) => call.sentAt > lock.releasedAt));

          let deliveries: SecondaryDelivery[] = [];
          let deliveredAt: number | undefined;
          const trafficEnded = performance.now();
          const deliveryDeadline = trafficEnded + plan.deliveryTimeoutMs;
          while (performance.now() < deliveryDeadline) {
            const received = await csmsProcess.received();
            deliveries = received.slice(1).map((bySecondary, i) => ({ secondary: `s${i}`, ...compareDelivery(paced.sentIds, bySecondary) }));
            if (deliveries.every((delivery) => delivery.missing === 0)) {
              deliveredAt = performance.now();
              break;
            }
            await new Promise((resolve) => setTimeout(resolve, DELIVERY_POLL_MS));
          }
          return {
            ...plan,
            lockHeldMs: lock.releasedAt - lock.lockedAt,
            callsSent: paced.calls.length,
            unanswered: paced.unanswered,
            duringLock,
            outsideLock,
            beforeLock,
            afterLock,
            deliveries,
            deliveredAfterTrafficMs: deliveredAt === undefined ? undefined : deliveredAt - trafficEnded,
            latencyPass: duringLock.calls > 0 && duringLock.p99Ms < LOCKED_P99_TARGET_MS,
            deliveryPass: deliveredAt !== undefined && deliveries.every((delivery) => delivery.outOfOrder === 0 && delivery.unexpected === 0),
          };
        } finally {
          await locker.close();
        }
      } finally {
        fleet.close();
      }
    } finally {
      await proxy.close();
    }
  } finally {
    await csmsProcess.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The PASS/FAIL lines for the report. */
export function describeLockedStore(result: LockedStoreResult): string[] {
  const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'never');
  const latency = (summary: LatencySummary): string =>
    `${summary.calls} calls, p50 ${ms(summary.p50Ms)}, p99 ${ms(summary.p99Ms)}, max ${ms(summary.maxMs)}`;
  const delivery = result.deliveries
    .map((d) => `${d.secondary} ${d.received}/${d.sent}${d.outOfOrder > 0 ? `, ${d.outOfOrder} out of order` : ''}${d.duplicates > 0 ? `, ${d.duplicates} repeated` : ''}${d.unexpected > 0 ? `, ${d.unexpected} unexpected` : ''}`)
    .join('; ');
  const when =
    result.deliveredAfterTrafficMs === undefined
      ? `not complete ${(result.deliveryTimeoutMs / 1000).toFixed(0)} s after the traffic stopped`
      : `complete ${(result.deliveredAfterTrafficMs / 1000).toFixed(1)} s after the traffic stopped (${(result.afterMs / 1000).toFixed(1)} s after the planned release)`;
  return [
    `locked store: ${result.chargers} chargers × 1 CALL / ${result.intervalMs} ms, ${result.secondaries} durable secondaries; another process held the write lock ${(result.lockHeldMs / 1000).toFixed(1)} s`,
    `  during the lock:  ${latency(result.duringLock)}`,
    `  outside the lock: ${latency(result.outsideLock)}${result.unanswered > 0 ? `; ${result.unanswered} never answered` : ''}`,
    `    before: ${latency(result.beforeLock)}; after: ${latency(result.afterLock)}`,
    `${result.latencyPass ? 'PASS' : 'FAIL'} locked store: charger ↔ primary p99 during the lock ${ms(result.duringLock.p99Ms)} (target < ${LOCKED_P99_TARGET_MS} ms)`,
    `${result.deliveryPass ? 'PASS' : 'FAIL'} locked store: every CALL reached every secondary, in order: ${delivery}; ${when}`,
  ];
}

function summariseLatency(calls: readonly PacedCall[]): LatencySummary {
  // An unanswered CALL (answeredAt NaN) is infinitely late: it must not vanish from the tail.
  const sorted = Float64Array.from(calls, (call) => (Number.isNaN(call.answeredAt) ? Infinity : call.answeredAt - call.sentAt)).sort();
  const at = (q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { calls: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1]! };
}

function compareDelivery(sent: Readonly<Record<string, readonly string[]>>, received: Readonly<Record<string, readonly string[]>>): Omit<SecondaryDelivery, 'secondary'> {
  let sentCount = 0;
  let receivedCount = 0;
  let outOfOrder = 0;
  let duplicates = 0;
  let unexpected = 0;
  for (const [identity, ids] of Object.entries(sent)) {
    const position = new Map(ids.map((id, i) => [id, i]));
    const seen = new Set<string>();
    let latest = -1;
    for (const id of received[identity] ?? []) {
      const at = position.get(id);
      if (at === undefined) unexpected += 1;
      else if (seen.has(id)) duplicates += 1;
      else {
        seen.add(id);
        if (at < latest) outOfOrder += 1;
        else latest = at;
      }
    }
    sentCount += ids.length;
    receivedCount += seen.size;
  }
  return { sent: sentCount, received: receivedCount, missing: sentCount - receivedCount, outOfOrder, duplicates, unexpected };
}
