/**
 * The load generator: N chargers in a closed loop — each keeps exactly one CALL
 * outstanding, as OCPP demands, and sends the next the moment the answer lands
 * (`run`); or paced, each sending one CALL per interval (`runPaced`).
 */
import { WebSocket } from 'ws';

/** A realistic mix of what chargers send most: meter values, status, heartbeats (≈ 100–330 bytes). */
const FRAMES = [
  (id: string) =>
    `[2,"${id}","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00.000Z","sampledValue":[{"value":"1234.5","measurand":"Energy.Active.Import.Register","unit":"Wh"},{"value":"16.0","measurand":"Current.Import","unit":"A","phase":"L1"},{"value":"230.1","measurand":"Voltage","unit":"V","phase":"L1-N"}]}]}]`,
  (id: string) => `[2,"${id}","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging","timestamp":"2026-01-01T00:00:00.000Z"}]`,
  (id: string) => `[2,"${id}","Heartbeat",{}]`,
];

export interface Fleet {
  readonly size: number;
  /** Runs the closed loop for `durationMs` after `warmupMs`; resolves with what was measured. */
  run(durationMs: number, warmupMs: number, hooks?: { onMeasureStart?: () => void; onMeasureEnd?: () => void }): Promise<LoadResult>;
  /**
   * Each charger sends one CALL every `intervalMs` (staggered over the fleet) for
   * `durationMs`, never more than one outstanding: a late answer delays the next
   * CALL rather than queueing more. Then waits up to `drainTimeoutMs` for the last answers.
   */
  runPaced(options: { intervalMs: number; durationMs: number; drainTimeoutMs: number }): Promise<PacedResult>;
  /** Each charger sends one Heartbeat and waits for the answer. */
  pingAll(): Promise<number>;
  close(): void;
}

export interface LoadResult {
  readonly calls: number;
  readonly seconds: number;
  readonly latenciesMs: Float64Array;
}

export interface PacedCall {
  /** `performance.now()` of this process. */
  readonly sentAt: number;
  /** NaN when the answer never came. */
  readonly answeredAt: number;
}

export interface PacedResult {
  /** Every CALL sent, all chargers together. */
  readonly calls: readonly PacedCall[];
  /** The message ids each charger sent, in order, by identity. */
  readonly sentIds: Readonly<Record<string, readonly string[]>>;
  readonly unanswered: number;
}

interface Charger {
  identity: string;
  socket: WebSocket;
  sentAt: number;
  seq: number;
  onAnswer: (() => void) | undefined;
}

/** Opens `count` chargers to `baseUrl/<prefix><n>`, at most `concurrency` handshakes at a time. */
export async function connectFleet(baseUrl: string, count: number, options: { prefix?: string; concurrency?: number; localAddress?: (n: number) => string | undefined } = {}): Promise<Fleet> {
  const prefix = options.prefix ?? 'BENCH-';
  const concurrency = options.concurrency ?? 200;
  const chargers: Charger[] = new Array<Charger>(count);
  let next = 0;
  const connectOne = async (n: number): Promise<void> => {
    const identity = `${prefix}${n}`;
    const socket = new WebSocket(`${baseUrl}/${identity}`, ['ocpp1.6'], { perMessageDeflate: false, localAddress: options.localAddress?.(n) });
    const charger: Charger = { identity, socket, sentAt: 0, seq: 0, onAnswer: undefined };
    chargers[n] = charger;
    socket.on('message', () => charger.onAnswer?.());
    socket.on('error', () => {
      // Reported by the run as missing answers, not here.
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
    });
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const n = next;
        next += 1;
        await connectOne(n);
      }
    }),
  );

  return {
    size: count,
    async run(durationMs, warmupMs, hooks = {}) {
      const latencies = new Float64Array(4_000_000);
      let recorded = 0;
      let measuring = false;
      let stopped = false;
      let calls = 0;
      const send = (charger: Charger): void => {
        charger.seq += 1;
        charger.sentAt = performance.now();
        charger.socket.send(FRAMES[charger.seq % FRAMES.length]!(`m${charger.seq}`));
      };
      for (const charger of chargers) {
        charger.onAnswer = () => {
          if (measuring) {
            calls += 1;
            if (recorded < latencies.length) latencies[recorded++] = performance.now() - charger.sentAt;
          }
          if (!stopped) send(charger);
        };
        send(charger);
      }
      await new Promise((resolve) => setTimeout(resolve, warmupMs));
      measuring = true;
      hooks.onMeasureStart?.();
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, durationMs));
      measuring = false;
      hooks.onMeasureEnd?.();
      const seconds = (performance.now() - started) / 1000;
      stopped = true;
      // Let the last answers drain so the next scenario starts clean.
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const charger of chargers) charger.onAnswer = undefined;
      return { calls, seconds, latenciesMs: latencies.subarray(0, recorded) };
    },
    async runPaced({ intervalMs, durationMs, drainTimeoutMs }) {
      const calls: Array<{ sentAt: number; answeredAt: number }> = [];
      const sentIds: Record<string, string[]> = {};
      const timers = new Set<NodeJS.Timeout>();
      const later = (delayMs: number, action: () => void): void => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          action();
        }, delayMs);
        timers.add(timer);
      };
      const endAt = performance.now() + durationMs;
      let outstanding = 0;
      chargers.forEach((charger, n) => {
        const ids: string[] = [];
        sentIds[charger.identity] = ids;
        let inFlight: { sentAt: number; answeredAt: number } | undefined;
        const send = (): void => {
          if (performance.now() >= endAt) return;
          charger.seq += 1;
          const id = `p${charger.seq}`;
          ids.push(id);
          inFlight = { sentAt: performance.now(), answeredAt: NaN };
          calls.push(inFlight);
          outstanding += 1;
          charger.socket.send(FRAMES[charger.seq % FRAMES.length]!(id));
        };
        charger.onAnswer = () => {
          if (inFlight === undefined) return;
          inFlight.answeredAt = performance.now();
          outstanding -= 1;
          const nextAt = inFlight.sentAt + intervalMs;
          inFlight = undefined;
          later(Math.max(0, nextAt - performance.now()), send);
        };
        later((n * intervalMs) / chargers.length, send);
      });
      await new Promise((resolve) => setTimeout(resolve, durationMs));
      const drainDeadline = performance.now() + drainTimeoutMs;
      while (outstanding > 0 && performance.now() < drainDeadline) await new Promise((resolve) => setTimeout(resolve, 10));
      for (const timer of timers) clearTimeout(timer);
      for (const charger of chargers) charger.onAnswer = undefined;
      return { calls, sentIds, unanswered: outstanding };
    },
    async pingAll() {
      let answered = 0;
      await Promise.all(
        chargers.map(
          (charger) =>
            new Promise<void>((resolve) => {
              charger.onAnswer = () => {
                answered += 1;
                charger.onAnswer = undefined;
                resolve();
              };
              charger.socket.send(`[2,"hb-${charger.seq++}","Heartbeat",{}]`);
            }),
        ),
      );
      return answered;
    },
    close() {
      for (const charger of chargers) charger?.socket.terminate();
    },
  };
}
