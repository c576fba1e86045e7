/**
 * Durability across a crash: the real CLI (`dist/cli.js`, built by `npm test`'s
 * pretest step) is SIGKILLed while a secondary is down and restarted on the same
 * DATA_DIR; the secondary, when it comes back, still gets everything once, in order.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  answers16,
  closeAll,
  connectRawCharger,
  exchange,
  freePort,
  mirroredAs,
  ocpp16,
  queryStore,
  receivedTexts,
  roundTrip,
  startRawCsms,
  startRawCsmsOnPort,
  temporaryDirectory,
  type ChargerCall,
  type RawCsms,
} from '../support/harness.js';
import { runCli, type RunningCli } from '../support/cli.js';

afterEach(closeAll);

const PRIMARY_TX = 100;
const SECONDARY_TX = 555;
const TX_IDS = { primary: PRIMARY_TX, secondary: SECONDARY_TX };
const CHARGER_ID = 'CP-CRASH';
const POLL = { timeout: 10_000, interval: 20 } as const;

interface RunningProxy extends RunningCli {
  readonly port: number;
}

/** Starts `node dist/cli.js` and resolves once it listens (port 0: the port comes from the 'proxy listening' line). */
async function runProxy(configFile: string, env: Record<string, string>): Promise<RunningProxy> {
  const proxy = runCli(['--config', configFile], { PORT: '0', ...env });
  const listening = await proxy.waitForLine('proxy listening');
  return Object.assign(proxy, { port: Number(listening.port) });
}

async function sigkill(proxy: RunningProxy): Promise<void> {
  proxy.child.kill('SIGKILL');
  expect(await proxy.exit).toEqual({ code: null, signal: 'SIGKILL' });
}

/** A proxy configuration whose one secondary is dialled at 127.0.0.1:`secondaryPort`, with small reconnect timers. */
function setUp(primary: RawCsms, secondaryPort: number): { dataDir: string; configFile: string; env: Record<string, string> } {
  const dataDir = temporaryDirectory('ocpp-splitter-restart-');
  const configFile = join(dataDir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({ log_level: 'debug', secondary_reconnect_delay_ms: 100, secondary_reconnect_max_delay_ms: 400 }),
  );
  const env = {
    PRIMARY_CSMS_URL: primary.url,
    SECONDARY_CSMS_URLS: `ws://127.0.0.1:${secondaryPort}/ocpp`,
    DATA_DIR: dataDir,
  };
  return { dataDir, configFile, env };
}

const outboxActions = (dataDir: string): unknown[] =>
  queryStore(dataDir, 'SELECT action FROM outbox WHERE charger_id = ? ORDER BY seq', CHARGER_ID).map((row) => row.action);
const primaryTxIds = (dataDir: string): unknown[] =>
  queryStore(dataDir, 'SELECT primary_tx_id FROM transaction_links WHERE charger_id = ?', CHARGER_ID).map((row) => row.primary_tx_id);

/** Waits until `csms` has received `count` frames, then makes sure no more are on their way. */
async function receivedExactly(csms: RawCsms, count: number): Promise<string[]> {
  await expect.poll(() => receivedTexts(csms).length, POLL).toBeGreaterThanOrEqual(count);
  const last = csms.peers.at(-1);
  if (last !== undefined && last.socket.readyState === last.socket.OPEN) await roundTrip(last);
  const texts = receivedTexts(csms);
  expect(texts).toHaveLength(count);
  return texts;
}

describe('a proxy killed with SIGKILL and restarted on the same DATA_DIR', () => {
  it('delivers the backlog of a secondary that was down throughout: every CALL once, in order, with its own transactionId', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondaryPort = await freePort();
    const { dataDir, configFile, env } = setUp(primary, secondaryPort);

    const first = await runProxy(configFile, env);
    const firstCharger = await connectRawCharger(`ws://127.0.0.1:${first.port}/${CHARGER_ID}`);
    const beforeCrash: ChargerCall[] = [
      ocpp16.boot('c-boot'),
      ocpp16.status('c-status', 'Preparing'),
      ocpp16.authorize('c-auth'),
      ocpp16.startTransaction('c-start'),
      ocpp16.meterValues('c-mv1', PRIMARY_TX),
    ];
    for (const call of beforeCrash) await exchange(firstCharger, call);
    // Committed to the file (one event-loop turn after each call), transaction link with the primary's id included.
    await expect.poll(() => outboxActions(dataDir), POLL).toEqual(beforeCrash.map((call) => call.action));
    await expect.poll(() => primaryTxIds(dataDir), POLL).toEqual([String(PRIMARY_TX)]);
    await sigkill(first);
    await firstCharger.closed;

    const second = await runProxy(configFile, env);
    // The charger comes back and carries on; it does not boot again.
    const charger = await connectRawCharger(`ws://127.0.0.1:${second.port}/${CHARGER_ID}`);
    const afterCrash = [ocpp16.meterValues('c-mv2', PRIMARY_TX), ocpp16.stopTransaction('c-stop', PRIMARY_TX)];
    for (const call of afterCrash) await exchange(charger, call);
    expect(second.lines.find((line) => line.msg === 'secondary backlog waiting')).toMatchObject({ backlog: beforeCrash.length });

    const secondary = await startRawCsmsOnPort(secondaryPort, { answer: answers16(SECONDARY_TX) });
    const session = [...beforeCrash, ...afterCrash];
    // The original BootNotification still heads the backlog: it goes as it was, not as a replay.
    const texts = await receivedExactly(secondary, session.length);
    expect(texts.map((text) => JSON.parse(text) as unknown)).toEqual(session.map((call) => mirroredAs(call, TX_IDS)));
    await expect.poll(() => outboxActions(dataDir), POLL).toEqual([]);
  });

  it('replays the BootNotification, under a fresh id, to a secondary that had it before the crash, then the rest once', async () => {
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondaryPort = await freePort();
    const { dataDir, configFile, env } = setUp(primary, secondaryPort);
    const before = await startRawCsmsOnPort(secondaryPort, { answer: answers16(SECONDARY_TX) });

    const first = await runProxy(configFile, env);
    const firstCharger = await connectRawCharger(`ws://127.0.0.1:${first.port}/${CHARGER_ID}`);
    const bootCall = ocpp16.boot('d-boot');
    await exchange(firstCharger, bootCall);
    expect(await receivedExactly(before, 1)).toEqual([bootCall.text]);
    // Answered and forgotten: nothing left to send again.
    await expect.poll(() => outboxActions(dataDir), POLL).toEqual([]);

    await before.relay.close();
    await expect.poll(() => first.lines.some((line) => line.msg === 'secondary disconnected'), POLL).toBe(true);
    const beforeCrash = [
      ocpp16.status('d-status', 'Preparing'),
      ocpp16.authorize('d-auth'),
      ocpp16.startTransaction('d-start'),
      ocpp16.meterValues('d-mv', PRIMARY_TX),
    ];
    for (const call of beforeCrash) await exchange(firstCharger, call);
    await expect.poll(() => outboxActions(dataDir), POLL).toEqual(beforeCrash.map((call) => call.action));
    await expect.poll(() => primaryTxIds(dataDir), POLL).toEqual([String(PRIMARY_TX)]);
    await sigkill(first);

    const second = await runProxy(configFile, env);
    const charger = await connectRawCharger(`ws://127.0.0.1:${second.port}/${CHARGER_ID}`);
    const stop = ocpp16.stopTransaction('d-stop', PRIMARY_TX);
    await exchange(charger, stop);

    const after = await startRawCsmsOnPort(secondaryPort, { answer: answers16(SECONDARY_TX) });
    const [replayed, ...rest] = (await receivedExactly(after, 1 + beforeCrash.length + 1)).map((text) => JSON.parse(text) as unknown[]);
    expect(replayed).toEqual([2, expect.any(String), 'BootNotification', bootCall.payload]);
    expect(replayed?.[1]).not.toBe(bootCall.id);
    expect(rest).toEqual([...beforeCrash, stop].map((call) => mirroredAs(call, TX_IDS)));
    await expect.poll(() => outboxActions(dataDir), POLL).toEqual([]);
  });

  it('loses nothing of a handover: a charger reconnects while its old secondary link is slow to close, and the proxy is killed within 2 s', async () => {
    // Regression (core issue, measured defect 3): the new session kept its messages in memory while the old
    // link let go, so a crash in that window lost every one of them for the secondary.
    const primary = await startRawCsms({ answer: answers16(PRIMARY_TX) });
    const secondaryPort = await freePort();
    const { dataDir, configFile, env } = setUp(primary, secondaryPort);
    const secondary = await startRawCsmsOnPort(secondaryPort, { answer: answers16(SECONDARY_TX) });

    const first = await runProxy(configFile, env);
    const oldCharger = await connectRawCharger(`ws://127.0.0.1:${first.port}/${CHARGER_ID}`);
    const bootCall = ocpp16.boot('h-boot');
    await exchange(oldCharger, bootCall);
    expect(await receivedExactly(secondary, 1)).toEqual([bootCall.text]);
    // The old secondary link stops reading: our close frame sits unread, the handover waits (up to 2 s).
    const oldLink = secondary.peers.at(-1);
    oldLink?.socket.pause();

    const charger = await connectRawCharger(`ws://127.0.0.1:${first.port}/${CHARGER_ID}`);
    const heartbeats = Array.from({ length: 50 }, (_, i) => ocpp16.heartbeat(`h-${i}`));
    const started = performance.now();
    for (const call of heartbeats) await exchange(charger, call);
    // Committed within store_commit_interval_ms of arriving, while the old link still holds on.
    await expect.poll(() => outboxActions(dataDir).length, POLL).toBe(heartbeats.length);
    await sigkill(first);
    // Killed inside the handover window, or the test proves nothing.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(receivedTexts(secondary)).toEqual([bootCall.text]);

    const second = await runProxy(configFile, env);
    await connectRawCharger(`ws://127.0.0.1:${second.port}/${CHARGER_ID}`);
    const [replayed, ...rest] = (await receivedExactly(secondary, 1 + 1 + heartbeats.length)).slice(1);
    expect(JSON.parse(replayed ?? '[]')).toEqual([2, expect.any(String), 'BootNotification', bootCall.payload]);
    expect(rest).toEqual(heartbeats.map((call) => call.text));
  });
});
