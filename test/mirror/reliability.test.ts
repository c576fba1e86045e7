/**
 * The mirror's delivery guarantees, with real sockets: a raw primary and raw
 * secondaries that record every byte, and secondaries that come up late, go
 * away, refuse, babble or stall. None of it may reach the charger or the primary.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  answers16,
  closeAll,
  connectRawCharger,
  exchange,
  freePort,
  mirroredAs,
  ocpp16,
  onCleanup,
  queryStore,
  receivedTexts,
  roundTrip,
  startProxy,
  startRawCsms,
  startRawCsmsOnPort,
  type ChargerCall,
  type RawCsms,
  type RawPeer,
  type StartedProxy,
} from '../support/harness.js';

afterEach(closeAll);

/** Small reconnect timers: a secondary that comes back is dialled again within ~0.5 s. */
const FAST_RECONNECT = { secondary_reconnect_delay_ms: 100, secondary_reconnect_max_delay_ms: 400 } as const;
const PRIMARY_TX = 100;
const SECONDARY_TX = 555;
const TX_IDS = { primary: PRIMARY_TX, secondary: SECONDARY_TX };
const DROPPED = 'secondary outbox full: oldest message dropped';
const SKIPPED = 'secondary never answered: message skipped';
/** Generous: a mirror that waited on its secondary would take a connect or answer timeout (5 s here). */
const PROMPT_MS = 1_000;
const POLL = { timeout: 10_000, interval: 20 } as const;

const parse = (text: string): unknown => JSON.parse(text);

/** Calls `handle` for every connection `csms` accepts from now on, until the test's cleanup. */
function onEachPeer(csms: RawCsms, handle: (peer: RawPeer) => void): void {
  let active = true;
  onCleanup(() => {
    active = false;
  });
  const next = (): void => {
    void csms.nextPeer().then((peer) => {
      if (!active) return;
      handle(peer);
      next();
    });
  };
  next();
}

/** Waits until `csms` has received `count` frames in all, then makes sure no more are on their way. */
async function receivedExactly(csms: RawCsms, count: number): Promise<string[]> {
  await expect.poll(() => receivedTexts(csms).length, POLL).toBeGreaterThanOrEqual(count);
  const last = csms.peers.at(-1);
  if (last !== undefined && last.socket.readyState === last.socket.OPEN) await roundTrip(last);
  const texts = receivedTexts(csms);
  expect(texts).toHaveLength(count);
  return texts;
}

/**
 * A TCP server that accepts and never says a word. (The harness's `holdUpgrade`
 * cannot stand in: its server never finishes closing while it holds an upgrade.)
 */
async function startSilentServer(): Promise<{ url: string; accepted: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  );
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ocpp`, accepted: () => accepted };
}

function outboxRows(dataDir: string): number {
  const [row] = queryStore(dataDir, 'SELECT COUNT(*) AS n FROM outbox');
  return Number(row?.n);
}

describe('delivery to one secondary', () => {
  it('keeps strict order with one mirrored CALL in flight: the next goes only after the answer', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondary = await startRawCsms(); // answered by hand below
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }], ...FAST_RECONNECT });
    const charger = await connectRawCharger(url('/CP-ORDER'));
    const link = await secondary.nextPeer();
    const calls = [ocpp16.boot('o-1'), ocpp16.status('o-2'), ocpp16.heartbeat('o-3'), ocpp16.authorize('o-4'), ocpp16.heartbeat('o-5')];
    // The charger is never held back by the unanswered secondary: all five are answered by the primary.
    for (const call of calls) await exchange(charger, call);

    for (const [index, call] of calls.entries()) {
      const frame = await link.nextFrame();
      expect(frame.data.toString()).toBe(call.text);
      // Every mirror send the proxy decided on before our ping has arrived by its pong: still just this one.
      await roundTrip(link);
      expect(link.frames).toHaveLength(index + 1);
      link.socket.send(answers16(SECONDARY_TX)({ id: call.id, action: call.action, payload: call.payload, raw: call.text })!);
    }
    await roundTrip(link);
    expect(link.frames.map((frame) => frame.data.toString())).toEqual(calls.map((call) => call.text));
  });

  it('resends an unanswered CALL with the same id up to secondary_max_attempts, then skips it (warning, counter) and goes on', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const answerAll = answers16(SECONDARY_TX);
    const secondary = await startRawCsms({ answer: (call) => (call.id === 'lost' ? undefined : answerAll(call)) });
    const answerTimeoutMs = 200;
    const { url, proxy, logs } = await startProxy(primary.url, {
      secondary_csms: [{ url: secondary.url }],
      secondary_answer_timeout_ms: answerTimeoutMs,
      secondary_max_attempts: 3,
      ...FAST_RECONNECT,
    });
    const charger = await connectRawCharger(url('/CP-TIMEOUT'));
    const link = await secondary.nextPeer();
    const arrivals: number[] = [];
    link.socket.on('message', () => arrivals.push(performance.now()));

    const calls = [ocpp16.boot('t-1'), ocpp16.heartbeat('lost'), ocpp16.status('t-3')];
    for (const call of calls) expect(await exchange(charger, call)).toBeLessThan(PROMPT_MS);

    const texts = await receivedExactly(secondary, 5);
    expect(texts).toEqual([calls[0]!.text, calls[1]!.text, calls[1]!.text, calls[1]!.text, calls[2]!.text]);
    // Each resend and the skip waited for the answer timeout (timers never fire early; 10 ms for clock granularity).
    for (const index of [2, 3, 4]) expect(arrivals[index]! - arrivals[index - 1]!).toBeGreaterThanOrEqual(answerTimeoutMs - 10);

    const warning = await logs.waitFor(SKIPPED);
    expect(warning).toMatchObject({ level: 'warn', action: 'Heartbeat', attempts: 3 });
    expect(logs.lines.filter((line) => line.msg === SKIPPED)).toHaveLength(1);
    expect(proxy.stats().mirror.mirrorSkipped).toBe(1);
    expect(charger.socket.readyState).toBe(charger.socket.OPEN);
  });

  it('skips, after secondary_max_attempts sends, a CALL on which the secondary drops the connection, and goes on', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const answerAll = answers16(SECONDARY_TX);
    // A "poison" message: the secondary crashes (drops the TCP connection) on it, every time.
    const secondary = await startRawCsms({ answer: (call) => (call.id === 'poison' ? undefined : answerAll(call)) });
    onEachPeer(secondary, (peer) => {
      peer.socket.on('message', (data: Buffer) => {
        if ((JSON.parse(data.toString()) as unknown[])[1] === 'poison') peer.socket.terminate();
      });
    });
    const { url, proxy, logs } = await startProxy(primary.url, {
      secondary_csms: [{ url: secondary.url }],
      // Long: the skip must come from counting sends, not from an answer timeout.
      secondary_answer_timeout_ms: 5_000,
      secondary_max_attempts: 3,
      ...FAST_RECONNECT,
    });
    const charger = await connectRawCharger(url('/CP-POISON'));
    const poison = ocpp16.heartbeat('poison');
    const next = ocpp16.status('after-poison');
    for (const call of [ocpp16.boot('p-boot'), poison, next]) await exchange(charger, call);

    const sent = (call: ChargerCall): number => receivedTexts(secondary).filter((text) => text === call.text).length;
    // Either the next message went, or the poison went more often than allowed.
    await expect.poll(() => sent(next) === 1 || sent(poison) > 3, POLL).toBe(true);
    expect(sent(poison)).toBe(3);
    expect(sent(next)).toBe(1);
    expect(await logs.waitFor(SKIPPED)).toMatchObject({ level: 'warn', action: 'Heartbeat', attempts: 3 });
    expect(proxy.stats().mirror.mirrorSkipped).toBe(1);
  });

  it('bounds the outbox: when full it drops the oldest non-transaction message first, logged and counted', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondaryPort = await freePort();
    const { url, proxy, logs, config } = await startProxy(primary.url, {
      secondary_csms: [{ url: `ws://127.0.0.1:${secondaryPort}/ocpp` }],
      secondary_queue_limit: 4,
      ...FAST_RECONNECT,
    });
    const charger = await connectRawCharger(url('/CP-BOUNDED'));
    const bootCall = ocpp16.boot('b-boot');
    const start = ocpp16.startTransaction('b-start');
    const stop = ocpp16.stopTransaction('b-stop', PRIMARY_TX);
    const [hb1, hb2, hb3] = [ocpp16.heartbeat('b-hb1'), ocpp16.heartbeat('b-hb2'), ocpp16.heartbeat('b-hb3')];
    const statusCall = ocpp16.status('b-status', 'Charging');
    const meter = ocpp16.meterValues('b-mv', PRIMARY_TX);
    // Outbox after each (limit 4):  [boot] [boot start] [boot start hb1] [boot start hb1 status]
    // meter → drops boot; stop → drops hb1; hb2 → drops status; hb3 → drops meter.
    for (const call of [bootCall, start, hb1, statusCall, meter, stop, hb2, hb3]) await exchange(charger, call);

    // Drops are decided in the store's commit, a few milliseconds after the message arrived.
    const drops = (): typeof logs.lines => logs.lines.filter((line) => line.msg === DROPPED);
    await expect.poll(() => drops().map((line) => line.action), POLL).toEqual(['BootNotification', 'Heartbeat', 'StatusNotification', 'MeterValues']);
    for (const line of drops()) expect(line).toMatchObject({ level: 'warn', priority: 'droppable', limit: 4 });
    expect(proxy.stats().mirror.mirrorDropped).toBe(4);
    await expect.poll(() => outboxRows(config.data_dir), POLL).toBe(4);

    const secondary = await startRawCsmsOnPort(secondaryPort, { answer: answers16(SECONDARY_TX) });
    const texts = await receivedExactly(secondary, 5);
    // The BootNotification was dropped from the outbox, so the last one seen is replayed first, under a fresh id.
    const [replayed, ...rest] = texts.map(parse);
    expect(replayed).toEqual([2, expect.any(String), 'BootNotification', bootCall.payload]);
    expect((replayed as unknown[])[1]).not.toBe(bootCall.id);
    expect(rest).toEqual([start, stop, hb2, hb3].map((call) => mirroredAs(call, TX_IDS)));
    await expect.poll(() => outboxRows(config.data_dir), POLL).toBe(0);
  });
});

describe('a secondary that (re)connects', () => {
  it('mid-session first gets the last BootNotification under a fresh id, then its backlog; nothing answered is sent again', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondary = await startRawCsms({ answer: answers16(SECONDARY_TX) });
    const { url, logs } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }], ...FAST_RECONNECT });
    const charger = await connectRawCharger(url('/CP-REBOOT'));
    const first = await secondary.nextPeer();
    const bootCall = ocpp16.boot('r-boot');
    const heartbeatCall = ocpp16.heartbeat('r-hb');
    for (const call of [bootCall, heartbeatCall]) {
      await exchange(charger, call);
      expect((await first.nextFrame()).data.toString()).toBe(call.text);
    }
    // The pong comes after the proxy has read the secondary's (automatic) answer to the heartbeat.
    await roundTrip(first);

    first.socket.close(1001, 'restarting');
    await logs.waitFor('secondary disconnected');
    const statusCall = ocpp16.status('r-status');
    await exchange(charger, statusCall);
    await secondary.nextPeer();

    const texts = await receivedExactly(secondary, 2 + 2);
    const [replayed, ...rest] = texts.slice(2).map(parse);
    expect(replayed).toEqual([2, expect.any(String), 'BootNotification', bootCall.payload]);
    expect((replayed as unknown[])[1]).not.toBe(bootCall.id);
    expect(rest).toEqual([mirroredAs(statusCall)]);
  });

  it('after a charger reconnect, gets the replayed BootNotification and only what is new', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondary = await startRawCsms({ answer: answers16(SECONDARY_TX) });
    const { url, proxy } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }], ...FAST_RECONNECT });
    const firstCharger = await connectRawCharger(url('/CP-AGAIN'));
    const first = await secondary.nextPeer();
    const bootCall = ocpp16.boot('a-boot');
    await exchange(firstCharger, bootCall);
    await first.nextFrame();
    await roundTrip(first);
    firstCharger.socket.close(1000);
    expect((await first.closed).code).toBe(1001);
    await expect.poll(() => proxy.stats().chargers, POLL).toBe(0);

    const charger = await connectRawCharger(url('/CP-AGAIN'));
    const second = await secondary.nextPeer();
    const heartbeatCall = ocpp16.heartbeat('a-hb');
    await exchange(charger, heartbeatCall);
    const texts = await receivedExactly(secondary, 3);
    expect(texts[0]).toBe(bootCall.text);
    const [replayed, heartbeat] = second.frames.map((frame) => parse(frame.data.toString()));
    expect(replayed).toEqual([2, expect.any(String), 'BootNotification', bootCall.payload]);
    expect((replayed as unknown[])[1]).not.toBe(bootCall.id);
    expect(heartbeat).toEqual(mirroredAs(heartbeatCall));
  });

  it('keeps the backlog across a charger reconnect while it is down: everything arrives once, in order', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondaryPort = await freePort();
    const { url, proxy, config } = await startProxy(primary.url, {
      secondary_csms: [{ url: `ws://127.0.0.1:${secondaryPort}/ocpp` }],
      ...FAST_RECONNECT,
    });
    const firstCharger = await connectRawCharger(url('/CP-BACKLOG'));
    const before = [ocpp16.boot('k-boot'), ocpp16.heartbeat('k-hb1')];
    for (const call of before) await exchange(firstCharger, call);
    firstCharger.socket.close(1000);
    await firstCharger.closed;
    await expect.poll(() => proxy.stats().chargers, POLL).toBe(0);

    // A charger that comes back does not boot again.
    const charger = await connectRawCharger(url('/CP-BACKLOG'));
    const after = [ocpp16.heartbeat('k-hb2'), ocpp16.status('k-status')];
    for (const call of after) await exchange(charger, call);
    await expect.poll(() => outboxRows(config.data_dir), POLL).toBe(4);

    const secondary = await startRawCsmsOnPort(secondaryPort, { answer: answers16(SECONDARY_TX) });
    // The original BootNotification heads the backlog, so it goes as it was, not a replay.
    expect(await receivedExactly(secondary, 4)).toEqual([...before, ...after].map((call) => call.text));
    await expect.poll(() => outboxRows(config.data_dir), POLL).toBe(0);
  });

  it('down for a whole 1.6 charging session: gets every CALL once, in order, with its own transactionId', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondaryPort = await freePort();
    const { url, logs, config } = await startProxy(primary.url, {
      secondary_csms: [{ url: `ws://127.0.0.1:${secondaryPort}/ocpp` }],
      ...FAST_RECONNECT,
    });
    const charger = await connectRawCharger(url('/CP-SESSION'));
    const primaryPeer = await primary.nextPeer();
    const session: ChargerCall[] = [
      ocpp16.boot('s-boot'),
      ocpp16.status('s-status', 'Preparing'),
      ocpp16.authorize('s-auth'),
      ocpp16.startTransaction('s-start'),
      ocpp16.meterValues('s-mv', PRIMARY_TX),
      ocpp16.stopTransaction('s-stop', PRIMARY_TX),
    ];
    for (const call of session) await exchange(charger, call);
    expect(primaryPeer.frames.map((frame) => frame.data.toString())).toEqual(session.map((call) => call.text));
    // Long enough down that the backoff reached its maximum (100, 200, 400, 400 ms …).
    await expect.poll(() => logs.lines.filter((line) => line.msg === 'secondary unreachable').length, POLL).toBeGreaterThanOrEqual(4);

    const secondary = await startRawCsmsOnPort(secondaryPort, { answer: answers16(SECONDARY_TX) });
    const texts = await receivedExactly(secondary, session.length);
    expect(texts.map(parse)).toEqual(session.map((call) => mirroredAs(call, TX_IDS)));
    // Nothing rewritten goes as the original bytes.
    expect(texts.slice(0, 4)).toEqual(session.slice(0, 4).map((call) => call.text));
    await expect.poll(() => outboxRows(config.data_dir), POLL).toBe(0);
    // The transaction ended on this secondary too: its id mapping is marked stopped, and kept for the grace
    // period so that a resent StopTransaction still gets this secondary's id (pruning removes it later).
    await expect
      .poll(() => queryStore(config.data_dir, 'SELECT secondary_tx_id, stopped_at IS NOT NULL AS stopped FROM transaction_links'), POLL)
      .toEqual([{ secondary_tx_id: String(SECONDARY_TX), stopped: 1 }]);
  });
});

interface Misbehaving {
  readonly url: string;
  /** How many bouts of the misbehaviour the proxy has been through so far. */
  readonly bouts: (proxy: StartedProxy) => number;
}

interface Misbehaviour {
  readonly name: string;
  /** Bouts to sit through while the charger talks (spread over its 21 calls), so they overlap. */
  readonly bouts: number;
  readonly start: () => Promise<Misbehaving>;
}

const logCount = (proxy: StartedProxy, msg: string): number => proxy.logs.lines.filter((line) => line.msg === msg).length;

const MISBEHAVIOURS: Misbehaviour[] = [
  {
    name: 'is unreachable',
    bouts: 4,
    start: async () => ({ url: `ws://127.0.0.1:${await freePort()}/ocpp`, bouts: (proxy) => logCount(proxy, 'secondary unreachable') }),
  },
  ...[401, 500].map(
    (status): Misbehaviour => ({
      name: `refuses the handshake with ${status}`,
      bouts: 4,
      start: async () => {
        const csms = await startRawCsms({ refuseWith: { status, headers: status === 401 ? { 'WWW-Authenticate': 'Basic' } : {} } });
        return { url: csms.url, bouts: () => csms.requests.length };
      },
    }),
  ),
  {
    name: 'accepts TCP but never answers the handshake',
    // One bout: the handshake stays pending (secondary_connect_timeout_ms 5 s) the whole time.
    bouts: 1,
    start: async () => {
      const silent = await startSilentServer();
      return { url: silent.url, bouts: silent.accepted };
    },
  },
  {
    name: 'answers garbage',
    bouts: 4,
    start: async () => {
      const csms = await startRawCsms({ answer: () => 'this is not OCPP-J {' });
      onEachPeer(csms, (peer) => {
        const babble = setInterval(() => {
          if (peer.socket.readyState !== peer.socket.OPEN) return;
          peer.socket.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
          peer.socket.send('[2,"x"]');
          peer.socket.send('[5,"what",{}]');
        }, 50);
        peer.socket.once('close', () => clearInterval(babble));
      });
      return { url: csms.url, bouts: (proxy) => Math.floor(proxy.proxy.stats().mirror.secondaryInvalidFrames / 3) };
    },
  },
  {
    name: 'answers slowly',
    bouts: 3,
    start: async () => {
      const csms = await startRawCsms();
      const answer = answers16(SECONDARY_TX);
      let answered = 0;
      onEachPeer(csms, (peer) => {
        peer.socket.on('message', (data: Buffer) => {
          const [, id, action, payload] = JSON.parse(data.toString()) as [number, string, string, unknown];
          setTimeout(() => {
            if (peer.socket.readyState !== peer.socket.OPEN) return;
            peer.socket.send(answer({ id, action, payload, raw: data.toString() })!);
            answered += 1;
          }, 300).unref();
        });
      });
      return { url: csms.url, bouts: () => answered };
    },
  },
  {
    name: 'never answers (nor pongs)',
    // One bout: the mirrored BootNotification stays unanswered (secondary_answer_timeout_ms 5 s) the whole time.
    bouts: 1,
    start: async () => {
      const csms = await startRawCsms({ autoPong: false });
      return { url: csms.url, bouts: () => receivedTexts(csms).length };
    },
  },
  {
    name: 'closes every few hundred ms',
    bouts: 4,
    start: async () => {
      const csms = await startRawCsms({ answer: answers16(SECONDARY_TX) });
      let closes = 0;
      onEachPeer(csms, (peer) => {
        setTimeout(() => {
          peer.socket.close(1001, 'bye');
          closes += 1;
        }, 150).unref();
      });
      return { url: csms.url, bouts: () => closes };
    },
  },
];

describe('a misbehaving secondary never delays or disturbs the charger or the primary', () => {
  it.each(MISBEHAVIOURS)('when it $name', async ({ start, bouts }) => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondary = await start();
    const started = await startProxy(primary.url, {
      secondary_csms: [{ url: secondary.url }],
      secondary_connect_timeout_ms: 5_000,
      secondary_answer_timeout_ms: 5_000,
      ...FAST_RECONNECT,
    });
    const connectStarted = performance.now();
    const charger = await connectRawCharger(started.url('/CP-CALM'));
    expect(performance.now() - connectStarted).toBeLessThan(PROMPT_MS);
    const primaryPeer = await primary.nextPeer();
    let chargerClosed = false;
    charger.socket.once('close', () => {
      chargerClosed = true;
    });

    const calls = [ocpp16.boot('m-boot'), ...Array.from({ length: 20 }, (_, i) => ocpp16.heartbeat(`m-hb-${i + 1}`))];
    const roundTrips: number[] = [];
    for (const [index, call] of calls.entries()) {
      roundTrips.push(await exchange(charger, call));
      // Spread the charger's calls over several bouts of misbehaviour.
      const due = Math.floor(((index + 1) * bouts) / calls.length);
      await expect.poll(() => secondary.bouts(started), POLL).toBeGreaterThanOrEqual(due);
    }
    expect(Math.max(...roundTrips)).toBeLessThan(PROMPT_MS);

    // Exactly the charger's frames reached the primary, and exactly the primary's answers reached the charger.
    expect(primaryPeer.frames.map((frame) => frame.data.toString())).toEqual(calls.map((call) => call.text));
    await roundTrip(charger);
    expect(charger.frames.map((frame) => (JSON.parse(frame.data.toString()) as unknown[])[1])).toEqual(calls.map((call) => call.id));
    expect(chargerClosed).toBe(false);
    expect(charger.socket.readyState).toBe(charger.socket.OPEN);
    expect(primaryPeer.socket.readyState).toBe(primaryPeer.socket.OPEN);
    expect(started.proxy.stats().mirror.mirrorFailures).toBe(0);
  });
});
