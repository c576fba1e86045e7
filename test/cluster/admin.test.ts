/**
 * The admin listener with `workers: 2`: the cluster primary opens it and asks every worker, so the API,
 * /metrics and the live stream show the chargers of all workers as one proxy would, the store's backlog
 * counted once, and pause, resume and disconnect act on whichever worker holds what they name.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../src/admin/metric-names.js';
import { CLI, runProcess, type LogLine, type RunningCli } from '../support/cli.js';
import { metricSample, sseParser, type SseEvent } from '../support/admin.js';
import {
  callResultFrame,
  closeAll,
  connectRawCharger,
  freePort,
  onCleanup,
  startRawCsms,
  temporaryDirectory,
  type RawPeer,
} from '../support/harness.js';

afterEach(closeAll);

/** Every wait of these tests is bounded by this (the cluster itself answers in milliseconds). */
const WAIT_MS = 10_000;

interface Cluster extends RunningCli {
  readonly port: number;
  readonly adminPort: number;
  /** `http://127.0.0.1:<admin port><path>` */
  url(path: string): string;
}

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function startCluster(env: Record<string, string>, config: Record<string, unknown> = {}): Promise<Cluster> {
  const dir = temporaryDirectory();
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ secondary_reconnect_delay_ms: 100, secondary_reconnect_max_delay_ms: 200, ...config }));
  const adminPort = await freePort();
  const args = [CLI, '--config', configFile, '--workers', '2', '--host', '127.0.0.1'];
  const cluster = runProcess(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ADMIN_PORT: String(adminPort), DATA_DIR: join(dir, 'data'), ...env },
  });
  const ready = await within(cluster.waitForLine('admin listener ready (dashboard, /api, /metrics)'), 'the admin listener');
  expect(ready.worker).toBeUndefined(); // the primary's, not a worker's
  const listening = await within(cluster.waitForLine('proxy listening'), 'a worker to listen');
  await within(cluster.waitForLine('all workers listening'), 'all workers to listen');
  return Object.assign(cluster, { port: Number(listening.port), adminPort, url: (path: string) => `http://127.0.0.1:${adminPort}${path}` });
}

/** The worker whose 'session started' line is the `nth` for this charge point id. */
async function workerOfSession(cluster: Cluster, identity: string, nth = 1): Promise<number> {
  const sessions = (): LogLine[] => cluster.lines.filter((line) => line.msg === 'session started' && line.tag === identity);
  await expect.poll(() => sessions().length >= nth, { timeout: WAIT_MS, interval: 20 }).toBe(true);
  return Number(sessions()[nth - 1]?.worker);
}

interface PlacedCharger {
  readonly id: string;
  readonly peer: RawPeer;
  readonly worker: number;
}

/** Connects chargers `${prefix}1`, `${prefix}2`, … until every worker in `workers` serves one; returns all of them. */
async function chargersOn(cluster: Cluster, prefix: string, workers: readonly number[]): Promise<PlacedCharger[]> {
  const placed: PlacedCharger[] = [];
  for (let n = 1; n <= 8 && !workers.every((worker) => placed.some((charger) => charger.worker === worker)); n += 1) {
    const id = `${prefix}${n}`;
    const peer = await connectRawCharger(`ws://127.0.0.1:${cluster.port}/${id}`);
    placed.push({ id, peer, worker: await workerOfSession(cluster, id) });
  }
  for (const worker of workers) expect(placed.map((charger) => charger.worker), `a charger on worker ${worker}`).toContain(worker);
  return placed;
}

async function getJson<T>(cluster: Cluster, path: string): Promise<T> {
  const response = await fetch(cluster.url(path), { signal: AbortSignal.timeout(WAIT_MS) });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

async function post(cluster: Cluster, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(cluster.url(path), { method: 'POST', signal: AbortSignal.timeout(WAIT_MS) });
  return { status: response.status, body: await response.json() };
}

async function metrics(cluster: Cluster): Promise<string> {
  const response = await fetch(cluster.url('/metrics'), { signal: AbortSignal.timeout(WAIT_MS) });
  expect(response.status).toBe(200);
  return response.text();
}

/** Opens `GET /api/events` and collects its events. */
function openStream(cluster: Cluster): Promise<{ readonly events: SseEvent[] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: cluster.adminPort, path: '/api/events' }, (response) => {
      const events: SseEvent[] = [];
      const parse = sseParser();
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        events.push(...parse(chunk));
      });
      resolve({ events });
    });
    req.on('error', reject);
    onCleanup(() => req.destroy());
    req.end();
  });
}

/** The cluster primary's children: its workers (Linux: read from /proc). */
function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parent) pids.push(Number(name));
  }
  return pids;
}

const heartbeat = (id: string): string => `[2,"${id}","Heartbeat",{}]`;
const answerEverything = ({ id }: { id: string }): string => callResultFrame(id, { currentTime: new Date(0).toISOString() });

describe('the admin listener with workers: 2', () => {
  it('serves one view of every worker\'s chargers, status and metrics, the store\'s backlog counted once', async () => {
    const primary = await startRawCsms({ answer: answerEverything });
    const downSecondary = await freePort();
    const cluster = await startCluster({ PRIMARY_CSMS_URL: primary.url }, { secondary_csms: [{ url: `ws://127.0.0.1:${downSecondary}/ocpp`, name: 'energy' }] });
    const chargers = await chargersOn(cluster, 'CP-V', [1, 2]);
    for (const charger of chargers) {
      charger.peer.socket.send(heartbeat(`hb-${charger.id}`));
      await within(charger.peer.nextFrame(), `the answer to ${charger.id}`);
    }
    const count = chargers.length;

    // With the secondary down every heartbeat waits in the one store that both workers read whole.
    let text = '';
    await expect
      .poll(async () => metricSample((text = await metrics(cluster)), 'ocpp_splitter_outbox_messages{secondary="energy"}'), { timeout: WAIT_MS, interval: 100 })
      .toBe(count);
    expect(metricSample(text, 'ocpp_splitter_chargers_connected')).toBe(count);
    expect(metricSample(text, 'ocpp_splitter_frames_total{source="charger",type="call"}')).toBe(count);
    expect(metricSample(text, 'ocpp_splitter_frames_total{source="primary",type="callresult"}')).toBe(count);
    expect(metricSample(text, 'ocpp_splitter_handshakes_total{result="accepted"}')).toBe(count);
    expect(metricSample(text, 'ocpp_splitter_primary_call_duration_seconds_count')).toBe(count);
    expect(metricSample(text, 'ocpp_splitter_secondary_paused{secondary="energy"}')).toBe(0);
    expect(metricSample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    for (const name of METRIC_NAMES) {
      if (name !== 'ocpp_splitter_charger_frames_total') expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(text).not.toMatch(/ (null|NaN|undefined)$/m);

    const status = await getJson<{ counts: Record<string, number>; frames_total: Record<string, number>; config: Record<string, unknown> }>(cluster, '/api/status');
    expect(status.counts).toMatchObject({ chargers: count, secondaries: 1, secondaries_paused: 0, outbox_messages: count });
    expect(status.frames_total).toMatchObject({ charger: count, primary: count });
    expect(status.config).toMatchObject({ port: cluster.port, workers: 2 });

    const listed = await getJson<Array<{ id: string }>>(cluster, '/api/chargers');
    expect(listed.map((charger) => charger.id)).toEqual(chargers.map((charger) => charger.id).sort());
    const [secondary] = await getJson<Array<{ name: string; outbox_messages: number; paused: boolean }>>(cluster, '/api/secondaries');
    expect(secondary).toMatchObject({ name: 'energy', outbox_messages: count, paused: false });

    // A charger's frames are recorded from the first look at it on (observer.ts): look, send, look again.
    const onSecond = chargers.find((charger) => charger.worker === 2)!;
    type Detail = { id: string; recent_frames: Array<{ message_id: string | null }> };
    expect((await getJson<Detail>(cluster, `/api/chargers/${onSecond.id}`)).id).toBe(onSecond.id);
    onSecond.peer.socket.send(heartbeat(`seen-${onSecond.id}`));
    await expect
      .poll(async () => (await getJson<Detail>(cluster, `/api/chargers/${onSecond.id}`)).recent_frames.map((frame) => frame.message_id), { timeout: WAIT_MS, interval: 50 })
      .toContain(`seen-${onSecond.id}`);
    expect((await fetch(cluster.url('/api/chargers/CP-NOWHERE'), { signal: AbortSignal.timeout(WAIT_MS) })).status).toBe(404);
  });

  it('streams frames from a charger on either worker, and disconnects a charger wherever it is', async () => {
    const primary = await startRawCsms({ answer: answerEverything });
    const cluster = await startCluster({ PRIMARY_CSMS_URL: primary.url });
    const chargers = await chargersOn(cluster, 'CP-S', [1, 2]);
    const stream = await openStream(cluster);
    for (const charger of [1, 2].map((worker) => chargers.find((candidate) => candidate.worker === worker)!)) {
      // The subscription reaches the worker over IPC while the frame travels the charger's socket: send until it shows.
      const seen = (): boolean => stream.events.some((event) => event.event === 'frame' && event.data.charger === charger.id && event.data.direction === 'in');
      for (let attempt = 1; !seen() && attempt <= 20; attempt += 1) {
        charger.peer.socket.send(heartbeat(`live-${attempt}`));
        await expect.poll(seen, { timeout: 500, interval: 20 }).toBe(true).catch(() => undefined);
      }
      expect(seen(), `a frame of ${charger.id} (worker ${charger.worker}) in the stream`).toBe(true);
    }

    const disconnected = [1, 2].map((worker) => chargers.find((candidate) => candidate.worker === worker)!);
    for (const charger of disconnected) {
      expect(await post(cluster, `/api/chargers/${charger.id}/disconnect`)).toEqual({ status: 202, body: { id: charger.id, disconnected: true } });
      expect((await within(charger.peer.closed, `${charger.id} to be closed`)).code).toBe(1001);
    }
    expect((await post(cluster, '/api/chargers/CP-NOWHERE/disconnect')).status).toBe(404);
    const remaining = chargers.filter((charger) => !disconnected.includes(charger));
    await expect
      .poll(async () => (await getJson<Array<{ id: string }>>(cluster, '/api/chargers')).map((charger) => charger.id), { timeout: WAIT_MS, interval: 50 })
      .toEqual(remaining.map((charger) => charger.id).sort());
  });

  it('says which admin port is taken, exit 78, before any worker starts', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    onCleanup(() => blocker.close());
    const taken = (blocker.address() as { port: number }).port;
    const dir = temporaryDirectory();
    const cluster = runProcess(process.execPath, [CLI, '--workers', '2', '--host', '127.0.0.1'], {
      env: { PATH: process.env.PATH ?? '', CONFIG_FILE: '', PORT: '0', ADMIN_PORT: String(taken), PRIMARY_CSMS_URL: 'ws://127.0.0.1:1/ocpp', DATA_DIR: join(dir, 'data') },
    });
    expect((await within(cluster.exit, 'the cluster to exit')).code).toBe(78);
    expect(cluster.stderr()).toContain(`cannot open the admin listener on 127.0.0.1 port ${taken}: another program is using it (EADDRINUSE)`);
    expect(cluster.lines.filter((line) => line.msg === 'proxy listening')).toEqual([]);
  });

  it.skipIf(process.platform !== 'linux')('pauses a secondary on every worker, and a worker started after a crash starts paused', async () => {
    const primary = await startRawCsms({ answer: answerEverything });
    const secondary = await startRawCsms({ answer: answerEverything });
    const cluster = await startCluster({ PRIMARY_CSMS_URL: primary.url }, { secondary_csms: [{ url: secondary.url, name: 'energy' }] });
    const chargers = await chargersOn(cluster, 'CP-P', [1, 2]);
    await expect.poll(() => secondary.wss.clients.size, { timeout: WAIT_MS, interval: 20 }).toBe(chargers.length);

    expect(await post(cluster, '/api/secondaries/energy/pause')).toEqual({ status: 200, body: { name: 'energy', paused: true } });
    expect((await post(cluster, '/api/secondaries/nope/pause')).status).toBe(404);
    // Every worker closed its links to the paused secondary…
    await expect.poll(() => secondary.wss.clients.size, { timeout: WAIT_MS, interval: 20 }).toBe(0);
    const states = async (): Promise<string[]> =>
      (await getJson<Array<{ secondaries: Array<{ state: string }> }>>(cluster, '/api/chargers')).map((charger) => charger.secondaries[0]?.state ?? 'none');
    expect(await states()).toEqual(chargers.map(() => 'paused'));
    expect(metricSample(await metrics(cluster), 'ocpp_splitter_secondary_paused{secondary="energy"}')).toBe(1);
    // …and keeps what the chargers send.
    for (const charger of chargers) {
      charger.peer.socket.send(heartbeat(`kept-${charger.id}`));
      await within(charger.peer.nextFrame(), `the answer to ${charger.id}`);
    }
    await expect
      .poll(async () => (await getJson<Array<{ outbox_messages: number }>>(cluster, '/api/secondaries'))[0]?.outbox_messages, { timeout: WAIT_MS, interval: 100 })
      .toBe(chargers.length);

    // A worker dies; its replacement must learn the pause from the primary before it serves a charger.
    const workers = childPids(cluster.child.pid ?? 0);
    expect(workers).toHaveLength(2);
    process.kill(workers[0]!, 'SIGKILL');
    const crashed = Number((await within(cluster.waitForLine('worker exited unexpectedly; starting a new one'), 'the crash to be noticed')).worker);
    await within(cluster.waitForLine('proxy listening', (line) => line.worker === 3), 'the replacement worker');
    const [late] = (await chargersOn(cluster, 'CP-LATE', [3])).filter((charger) => charger.worker === 3);
    await expect
      .poll(async () => (await getJson<{ secondaries: Array<{ state: string }> }>(cluster, `/api/chargers/${late!.id}`)).secondaries[0]?.state, { timeout: WAIT_MS, interval: 50 })
      .toBe('paused');
    expect((await getJson<Array<{ paused: boolean }>>(cluster, '/api/secondaries'))[0]?.paused).toBe(true);

    // Resumed: the surviving worker delivers what it kept, and the new worker's charger links up.
    expect(await post(cluster, '/api/secondaries/energy/resume')).toEqual({ status: 200, body: { name: 'energy', paused: false } });
    const survivor = chargers.find((charger) => charger.worker !== crashed)!;
    const delivered = (): string[] => secondary.peers.flatMap((peer) => peer.frames.map((frame) => frame.data.toString()));
    await expect.poll(delivered, { timeout: WAIT_MS, interval: 20 }).toContain(heartbeat(`kept-${survivor.id}`));
    await expect
      .poll(async () => (await getJson<{ secondaries: Array<{ state: string }> }>(cluster, `/api/chargers/${late!.id}`)).secondaries[0]?.state, { timeout: WAIT_MS, interval: 50 })
      .toBe('open');
  });
});
