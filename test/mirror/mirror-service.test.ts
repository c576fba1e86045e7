/**
 * The process-wide mirror: pruning what is stale (with a log line saying what), over a real
 * SQLite store in a temporary directory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Keepalive } from '../../src/links/keepalive.js';
import { createMirrorCounters } from '../../src/mirror/counters.js';
import { MirrorService, STOPPED_LINK_GRACE_MS } from '../../src/mirror/mirror-service.js';
import { secondaryStoreKey } from '../../src/store/sqlite-store.js';
import { captureLogs, temporaryDirectory } from '../support/harness.js';

const DAY = 24 * 60 * 60_000;
const services: MirrorService[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.close();
});

function open(secondaryUrls: string[], dataDir = temporaryDirectory()) {
  const config = configSchema.parse({
    primary_csms_url: 'ws://127.0.0.1:1/ocpp',
    secondary_csms: secondaryUrls.map((url) => ({ url })),
    data_dir: dataDir,
  });
  const logs = captureLogs('info');
  const service = new MirrorService({ config, log: logs.logger, counters: createMirrorCounters(), keepalive: new Keepalive(0, 1) });
  services.push(service);
  return { service, logs, config, dataDir };
}

const entry = (id: string) => ({
  frame: `[2,"${id}","Heartbeat",{}]`,
  messageId: id,
  action: 'Heartbeat',
  kind: 'call' as const,
  priority: 'droppable' as const,
  startRef: null,
  txRef: null,
  enqueuedAt: Date.now(),
});
const LIMITS = { maxMessages: 100, maxBytes: 1024 * 1024 };

describe('MirrorService.prune', () => {
  it('removes outboxes of chargers not seen for store_retention_days and of secondaries no longer configured, and says so', async () => {
    const kept = 'ws://127.0.0.1:2/kept';
    const removed = 'ws://127.0.0.1:3/removed';
    const { service, logs } = open([kept]);
    const keptKey = secondaryStoreKey({ url: kept });
    const removedKey = secondaryStoreKey({ url: removed });
    await service.store.append({ chargerId: 'CP-ACTIVE', secondaryKey: keptKey }, entry('a'), LIMITS);
    await service.store.append({ chargerId: 'CP-ACTIVE', secondaryKey: removedKey }, entry('b'), LIMITS);

    // Nothing is stale yet but the outbox of the secondary that is gone from the config.
    const first = await service.prune();
    expect(first).toMatchObject({ orphanOutboxEntries: 1, staleOutboxEntries: 0 });
    expect(await logs.waitFor('store pruned')).toMatchObject({ orphan_outbox_entries: 1, retention_days: 30 });

    // 31 days later, the charger was never seen again: its outbox goes too.
    const later = await service.prune(Date.now() + 31 * DAY);
    expect(later).toMatchObject({ staleOutboxEntries: 1 });
    expect(await service.store.stats({ chargerId: 'CP-ACTIVE', secondaryKey: keptKey })).toMatchObject({ messages: 0 });
  });

  it('keeps stopped transaction links for the grace period (a resent stop still needs them), then removes them', async () => {
    const url = 'ws://127.0.0.1:2/s';
    const { service } = open([url]);
    const key = secondaryStoreKey({ url });
    const handle = service.leases.hold('CP-TX');
    const fence = await handle.fence();
    const now = Date.now();
    await service.store.putTransactionLink('CP-TX', key, { startRef: 'r', primaryTxId: '1', secondaryTxId: '2', remoteStart: null, stoppedAt: now }, fence);
    await handle.release();
    expect((await service.prune(now + STOPPED_LINK_GRACE_MS - 1000)).transactionLinks).toBe(0);
    expect((await service.prune(now + STOPPED_LINK_GRACE_MS + 1000)).transactionLinks).toBe(1);
    expect(await service.store.findTransactionLinkByStartRef('CP-TX', key, 'r')).toBeUndefined();
  });

  it('logs nothing when nothing was stale', async () => {
    const { service, logs } = open(['ws://127.0.0.1:2/s']);
    await service.prune();
    expect(logs.lines.filter((line) => line.msg === 'store pruned')).toEqual([]);
  });
});
