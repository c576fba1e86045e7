/**
 * This process's leases on its chargers, over the in-memory store with a controlled clock.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { isGoneLocalProcess, LeaseKeeper, processOwnerId } from '../../src/mirror/lease-keeper.js';
import { MemoryMirrorStore } from '../../src/store/memory-store.js';

const log = createLogger('silent');
const TTL = 10_000;

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('LeaseKeeper', () => {
  it('takes a free lease; sessions of one charger share it; the last to let go releases it', async () => {
    const store = new MemoryMirrorStore();
    const keeper = new LeaseKeeper(store, 'me', TTL, log);
    const first = keeper.hold('CP-1');
    const second = keeper.hold('CP-1');
    const fence = await first.fence();
    expect(await second.fence()).toBe(fence);
    expect(first.valid()).toBe(true);
    await first.release();
    expect(await store.leaseHolder('CP-1')).toMatchObject({ owner: 'me' });
    await second.release();
    expect(await store.leaseHolder('CP-1')).toBeUndefined();
    expect(keeper.size).toBe(0);
  });

  it('waits while another live owner holds the lease, and takes it once released', async () => {
    const store = new MemoryMirrorStore();
    const other = await store.acquireLease('CP-1', 'other-owner', TTL);
    if (other === undefined) throw new Error('no lease');
    const keeper = new LeaseKeeper(store, 'me', TTL, log);
    const handle = keeper.hold('CP-1');
    let granted = false;
    void handle.fence().then(() => (granted = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(granted).toBe(false);
    expect(handle.valid()).toBe(false);
    await store.releaseLease('CP-1', other);
    await expect.poll(() => granted, { timeout: 5_000 }).toBe(true);
    expect((await handle.fence()).token).toBeGreaterThan(other.token);
    await keeper.close();
  });

  it('takes over at once a lease held by a process of this host that is gone (a crash, a SIGKILL)', async () => {
    const store = new MemoryMirrorStore();
    const gone = `${hostname()}:${deadPid()}:abcd`;
    await store.acquireLease('CP-1', gone, 600_000);
    const keeper = new LeaseKeeper(store, processOwnerId(), TTL, log);
    const fence = await keeper.hold('CP-1').fence();
    expect(fence.owner).toBe(keeper.owner);
    await keeper.close();
  });

  it('tells gone local processes from live ones and from other hosts', () => {
    const self = processOwnerId();
    expect(isGoneLocalProcess(`${hostname()}:${deadPid()}:x`, self)).toBe(true);
    // An earlier life of this very process (same pid, another random part): a container's PID 1 restarted.
    expect(isGoneLocalProcess(`${hostname()}:${process.pid}:earlier`, self)).toBe(true);
    expect(isGoneLocalProcess(self, self)).toBe(false);
    // Another proxy in this same process (review): alive, its leases are not taken.
    expect(isGoneLocalProcess(processOwnerId(), self)).toBe(false);
    expect(isGoneLocalProcess(`${hostname()}:${process.ppid}:x`, self)).toBe(false);
    expect(isGoneLocalProcess(`another-host:${deadPid()}:x`, self)).toBe(false);
    expect(isGoneLocalProcess('not-an-owner-id', self)).toBe(false);
  });
});
