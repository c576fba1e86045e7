/**
 * BacklogCache: one store read per interval, never a stalled scrape, and a failing store shows its last good
 * value with the error, not nothing.
 */
import { describe, expect, it } from 'vitest';
import { BacklogCache } from '../../src/admin/backlog-cache.js';
import type { LabelledBacklog } from '../../src/proxy.js';

/** Past the interval (maxAgeMs 0, and ten times a read of well under a millisecond). */
const afterInterval = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

const ROW: LabelledBacklog = { chargerId: 'CP-1', secondary: 'energy', messages: 3, bytes: 30, oldestEnqueuedAt: 1 };

describe('BacklogCache', () => {
  it('reads once per interval however often it is asked', async () => {
    let reads = 0;
    const cache = new BacklogCache(() => {
      reads += 1;
      return Promise.resolve([ROW]);
    }, { maxAgeMs: 60_000 });
    await Promise.all([cache.get(), cache.get(), cache.get()]);
    expect(await cache.get()).toEqual([ROW]);
    expect(reads).toBe(1);
  });

  it('answers with the last good value when a read hangs, and takes the read when it comes', async () => {
    let release!: (rows: LabelledBacklog[]) => void;
    let calls = 0;
    const cache = new BacklogCache(() => {
      calls += 1;
      return calls === 1 ? Promise.resolve([ROW]) : new Promise((resolve) => (release = resolve));
    }, { maxAgeMs: 0, waitMs: 20 });
    expect(await cache.get()).toEqual([ROW]);
    await afterInterval();
    const started = performance.now();
    expect(await cache.get()).toEqual([ROW]); // the hanging read: the old value after the wait
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(cache.health.reading).toBe(true);
    expect(await cache.get()).toEqual([ROW]); // no second read while one is pending
    expect(calls).toBe(2);
    release([{ ...ROW, messages: 5 }]);
    await afterInterval();
    expect((await cache.get())[0]?.messages).toBe(5);
  });

  it('keeps the last good value when the store fails, and says why', async () => {
    let fail = false;
    const errors: string[] = [];
    const cache = new BacklogCache(() => (fail ? Promise.reject(new Error('database is locked')) : Promise.resolve([ROW])), {
      maxAgeMs: 0,
      onError: (error) => errors.push(error.message),
    });
    await cache.get();
    const goodAt = cache.health.readAt;
    fail = true;
    await afterInterval();
    expect(await cache.get()).toEqual([ROW]);
    expect(cache.health).toMatchObject({ error: 'database is locked', readAt: goodAt });
    expect(errors).toEqual(['database is locked']);
    fail = false;
    await afterInterval();
    await cache.get();
    expect(cache.health.error).toBeUndefined();
  });
});
