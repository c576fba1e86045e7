/**
 * A secondary that stays unreachable: the first failure is a warning, the ones after it are debug lines, and
 * a reminder with the backlog (its size and the age of its oldest message) comes at a bounded rate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Keepalive } from '../../src/links/keepalive.js';
import { createMirrorCounters } from '../../src/mirror/counters.js';
import { MirrorService } from '../../src/mirror/mirror-service.js';
import { secondaryStoreKey } from '../../src/store/sqlite-store.js';
import { captureLogs, closeAll, freePort, onCleanup, temporaryDirectory } from '../support/harness.js';

afterEach(closeAll);

const HOUR_MS = 60 * 60_000;
const REMINDER_MS = 400;
/** Every failed dial is retried after about this long (the smallest delay the config allows). */
const RETRY_MS = 100;

describe('a secondary that stays unreachable', () => {
  it('is a warning once, then a reminder with its backlog at most every unreachableReminderMs', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/ocpp`;
    const config = configSchema.parse({
      primary_csms_url: 'ws://127.0.0.1:1/ocpp',
      secondary_csms: [{ url, name: 'down' }],
      data_dir: temporaryDirectory(),
      secondary_reconnect_delay_ms: RETRY_MS,
      secondary_reconnect_max_delay_ms: RETRY_MS,
    });
    const logs = captureLogs('debug');
    const service = new MirrorService({
      config,
      log: logs.logger,
      counters: createMirrorCounters(),
      keepalive: new Keepalive(0, 1),
      timing: { unreachableReminderMs: REMINDER_MS },
    });
    onCleanup(() => service.close());
    // Two messages left from an hour ago wait for this secondary.
    const enqueuedAt = Date.now() - HOUR_MS;
    const stream = { chargerId: 'CP-DOWN', secondaryKey: secondaryStoreKey(config.secondary_csms[0]!) };
    for (const id of ['m1', 'm2']) {
      const entry = { frame: `[2,"${id}","Heartbeat",{}]`, messageId: id, action: 'Heartbeat', kind: 'call' as const, priority: 'droppable' as const, startRef: null, txRef: null, enqueuedAt };
      await service.store.append(stream, entry, { maxMessages: 100, maxBytes: 1024 * 1024 });
    }

    const mirror = service.createSessionMirror({
      chargerId: 'CP-DOWN',
      urlSegment: 'CP-DOWN',
      subprotocol: 'ocpp1.6',
      version: '1.6',
      chargerAuthorization: undefined,
      log: logs.logger,
      sendToCharger: () => true,
    });
    const started = Date.now();
    mirror.start();
    onCleanup(async () => {
      mirror.close();
      await mirror.closed;
    });

    const reminder = await logs.waitFor('secondary still unreachable');
    expect(Date.now() - started).toBeGreaterThanOrEqual(REMINDER_MS);
    expect(reminder).toMatchObject({ level: 'warn', secondary: 'down', url: `${url}/CP-DOWN`, backlog: 2 });
    expect(reminder.backlog_bytes).toBeGreaterThan(0);
    expect(reminder.failures).toBeGreaterThan(1);
    expect(Number(reminder.oldest_age_s)).toBeGreaterThanOrEqual(HOUR_MS / 1000);
    expect(Number(reminder.oldest_age_s)).toBeLessThan(HOUR_MS / 1000 + 60);

    // Let it fail a while longer: many dials, few reminders.
    const failuresBefore = logs.lines.filter((line) => line.msg === 'secondary unreachable').length;
    await expect.poll(() => logs.lines.filter((line) => line.msg === 'secondary unreachable').length, { timeout: 5000 }).toBeGreaterThanOrEqual(failuresBefore + 8);
    const elapsed = Date.now() - started;
    const unreachable = logs.lines.filter((line) => line.msg === 'secondary unreachable');
    const reminders = logs.lines.filter((line) => line.msg === 'secondary still unreachable');
    expect(unreachable.filter((line) => line.level === 'warn')).toHaveLength(1);
    expect(unreachable[0]?.level).toBe('warn');
    expect(reminders.length).toBeGreaterThanOrEqual(1);
    expect(reminders.length).toBeLessThanOrEqual(Math.floor(elapsed / REMINDER_MS));
    expect(reminders.length).toBeLessThan(unreachable.length / 2);
  });
});
