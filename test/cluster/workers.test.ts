/**
 * `workers: 2`: several processes on one port (node:cluster). A charger's
 * session and its durable state must behave the same whichever worker it lands
 * on — a second connection on another worker replaces the first, and a backlog
 * left on one worker is delivered from another.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runProcess, type LogLine, type RunningCli } from '../support/cli.js';
import {
  callResultFrame,
  closeAll,
  connectRawCharger,
  freePort,
  startRawCsms,
  startRawCsmsOnPort,
  temporaryDirectory,
  type RawPeer,
} from '../support/harness.js';

afterEach(closeAll);

interface Cluster extends RunningCli {
  readonly port: number;
}

async function startCluster(env: Record<string, string>, config: Record<string, unknown> = {}, group = false): Promise<Cluster> {
  const dir = temporaryDirectory();
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ secondary_reconnect_delay_ms: 100, secondary_reconnect_max_delay_ms: 200, ...config }));
  const args = [CLI, '--config', configFile, '--workers', '2', '--host', '127.0.0.1'];
  const cluster = runProcess(process.execPath, args, { env: { PATH: process.env.PATH ?? '', PORT: '0', ADMIN_PORT: '0', DATA_DIR: join(dir, 'data'), ...env }, group });
  const listening = await cluster.waitForLine('proxy listening');
  await cluster.waitForLine('all workers listening');
  return Object.assign(cluster, { port: Number(listening.port) });
}

/** The worker whose 'session started' line is the `nth` for this charge point id. */
async function workerOfSession(cluster: Cluster, identity: string, nth: number): Promise<number> {
  const matches = (line: LogLine): boolean => line.tag === identity;
  await expectEventually(() => cluster.lines.filter((line) => line.msg === 'session started' && matches(line)).length >= nth);
  const line = cluster.lines.filter((candidate) => candidate.msg === 'session started' && matches(candidate))[nth - 1];
  return Number(line?.worker);
}

async function expectEventually(condition: () => boolean): Promise<void> {
  await expect.poll(condition, { timeout: 10_000, interval: 20 }).toBe(true);
}

describe('workers: 2', () => {
  it('all workers serve the one port, and SIGTERM stops them all with exit 0', async () => {
    const primary = await startRawCsms();
    const cluster = await startCluster({ PRIMARY_CSMS_URL: primary.url });
    const workers = new Set(cluster.lines.filter((line) => line.msg === 'proxy listening').map((line) => line.port));
    expect(workers.size).toBe(1);
    const chargers = await Promise.all([1, 2, 3, 4].map((n) => connectRawCharger(`ws://127.0.0.1:${cluster.port}/CP-W${n}`)));
    const served = new Set(await Promise.all([1, 2, 3, 4].map((n) => workerOfSession(cluster, `CP-W${n}`, 1))));
    expect(served.size).toBe(2);
    cluster.child.kill('SIGTERM');
    expect((await cluster.exit).code).toBe(0);
    for (const charger of chargers) expect((await charger.closed).code).toBe(1001);
  });

  it('Ctrl-C in a terminal (SIGINT to the whole process group) drains every worker and exits 0', async () => {
    const primary = await startRawCsms();
    const cluster = await startCluster({ PRIMARY_CSMS_URL: primary.url }, {}, true);
    const chargers = await Promise.all([1, 2].map((n) => connectRawCharger(`ws://127.0.0.1:${cluster.port}/CP-INT${n}`)));
    await Promise.all([1, 2].map((n) => workerOfSession(cluster, `CP-INT${n}`, 1)));
    process.kill(-(cluster.child.pid ?? 0), 'SIGINT');
    expect((await cluster.exit).code).toBe(0);
    for (const charger of chargers) expect((await charger.closed).code).toBe(1001);
    expect(cluster.lines.filter((line) => line.msg === 'second signal: exiting now')).toEqual([]);
    expect(cluster.lines.filter((line) => line.msg === 'proxy stopped')).toHaveLength(2);
  });

  it('a second connection with the same id on the other worker replaces the first', async () => {
    const primary = await startRawCsms();
    const cluster = await startCluster({ PRIMARY_CSMS_URL: primary.url });
    const identity = 'CP-TWICE';
    const chargers: RawPeer[] = [];
    let crossed = false;
    // Round-robin decides the worker; reconnect until a connection lands on the other one.
    for (let attempt = 1; attempt <= 6 && !crossed; attempt += 1) {
      chargers.push(await connectRawCharger(`ws://127.0.0.1:${cluster.port}/${identity}`));
      const worker = await workerOfSession(cluster, identity, attempt);
      crossed = attempt > 1 && worker !== (await workerOfSession(cluster, identity, attempt - 1));
    }
    expect(crossed).toBe(true);
    await cluster.waitForLine('charge point id connected to another worker: this connection is replaced');
    const latest = chargers.at(-1)!;
    for (const old of chargers.slice(0, -1)) expect((await old.closed).code).toBe(1001);
    await expectEventually(() => primary.wss.clients.size === 1);
    latest.socket.send('[2,"after","Heartbeat",{}]');
    const peer = primary.peers.at(-1)!;
    expect((await peer.nextFrame()).data.toString()).toBe('[2,"after","Heartbeat",{}]');
  });

  it('a backlog left on one worker is delivered, once and in order, by the other', async () => {
    const primary = await startRawCsms();
    const secondaryPort = await freePort();
    const cluster = await startCluster({
      PRIMARY_CSMS_URL: primary.url,
      SECONDARY_CSMS_URLS: `ws://127.0.0.1:${secondaryPort}/ocpp`,
    });
    const identity = 'CP-BACKLOG';
    const url = `ws://127.0.0.1:${cluster.port}/${identity}`;
    const first = await connectRawCharger(url);
    const firstWorker = await workerOfSession(cluster, identity, 1);
    const frames = ['[2,"b1","Heartbeat",{}]', '[2,"b2","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]', '[2,"b3","Heartbeat",{}]'];
    for (const frame of frames) first.socket.send(frame);
    const firstPrimary = await primary.nextPeer();
    for (let i = 0; i < frames.length; i += 1) await firstPrimary.nextFrame();

    // Reconnect (without closing the first) until the charger lands on the other worker.
    let sessions = 1;
    let worker = firstWorker;
    let latest = first;
    while (worker === firstWorker && sessions < 8) {
      latest = await connectRawCharger(url);
      sessions += 1;
      worker = await workerOfSession(cluster, identity, sessions);
    }
    expect(worker).not.toBe(firstWorker);

    const secondary = await startRawCsmsOnPort(secondaryPort, { answer: ({ id }) => callResultFrame(id, {}) });
    // A marker sent after the backlog: the outbox is strictly ordered, so once it
    // arrives, any duplicate of the backlog would already have arrived before it.
    const marker = '[2,"marker","Heartbeat",{}]';
    latest.socket.send(marker);
    const received = (): string[] => secondary.peers.flatMap((peer) => peer.frames.map((frame) => frame.data.toString()));
    await expectEventually(() => received().includes(marker));
    expect(received()).toEqual([...frames, marker]);
    expect(secondary.peers).toHaveLength(1);
  });
});
