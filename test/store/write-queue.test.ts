import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, StoreError } from '../../src/errors.js';
import { WriteQueue, type QueuedWrite, type WriteQueueOptions } from '../../src/store/write-queue.js';

class Busy extends Error {}

/** A queue whose commit records each batch's size and fails while `failWith` is set. */
function queue(overrides: Partial<WriteQueueOptions<null>> = {}) {
  const commits: number[] = [];
  const reports: StoreError[] = [];
  const state: { failWith: Error | undefined } = { failWith: undefined };
  const q = new WriteQueue<null>({
    commitIntervalMs: 5,
    commit: (batch) => {
      if (state.failWith !== undefined) throw state.failWith;
      commits.push(batch.length);
      return batch.map((write) => write.apply(null));
    },
    isBusy: (cause) => cause instanceof Busy,
    describeFailure: (writes, next, cause) => new StoreError(ErrorCode.StoreWriteFailed, `${writes} writes (${next})`, { cause }),
    onWriteError: (error) => reports.push(error),
    onCommit: () => undefined,
    closed: () => new StoreError(ErrorCode.StoreUnavailable, 'store is closed'),
    ...overrides,
  });
  return { q, commits, reports, state };
}

function write(q: WriteQueue<null>, bytes = 10, urgent = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const entry: QueuedWrite<null> = { bytes, apply: () => () => resolve(bytes), reject };
    q.push(entry, urgent);
  });
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('WriteQueue', () => {
  it('commits the writes of one interval together and counts what waits', async () => {
    const { q, commits } = queue();
    const writes = [write(q, 10), write(q, 20), write(q, 30)];
    expect(q.pendingWrites).toBe(3);
    expect(q.pendingBytes).toBe(60);
    expect(await Promise.all(writes)).toEqual([10, 20, 30]);
    expect(commits).toEqual([3]);
    expect(q.pendingBytes).toBe(0);
  });

  it('retries a lock after 10, 20, 40 ms and a failure after 100, 200 ms; a success starts over', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { q, reports, state } = queue();
    state.failWith = new Busy('locked');
    void write(q);
    vi.advanceTimersByTime(5);
    for (const delay of [10, 20, 40]) {
      const before = reports.length;
      vi.advanceTimersByTime(delay - 1);
      expect(reports.length).toBe(before);
      vi.advanceTimersByTime(1);
      expect(reports.length).toBe(before + 1);
    }
    expect(reports.at(-1)?.message).toBe('1 writes (kept, retrying in 80 ms)');
    state.failWith = new Error('SQLITE_FULL');
    vi.advanceTimersByTime(80);
    // The exponent keeps counting failures in a row, whatever their kind.
    expect(reports.at(-1)?.message).toBe('1 writes (kept, retrying in 1600 ms)');
    state.failWith = undefined;
    vi.advanceTimersByTime(1_600);
    expect(q.healthy).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a flush still waiting when the queue drains rejects instead of waiting for ever', async () => {
    const { q, state } = queue();
    // More than one commit's worth, so that flush waits a turn between two commits.
    const writes = Array.from({ length: 5_001 }, () => write(q, 1).catch(() => -1));
    const flushed = q.flush();
    state.failWith = new Error('disk gone');
    const drained = q.drain((cause) => new StoreError(ErrorCode.StoreWriteFailed, 'lost', { cause }));
    await expect(flushed).rejects.toThrow('store is closed');
    await drained;
    const results = await Promise.all(writes);
    expect(results.filter((r) => r === 1)).toHaveLength(5_000);
    expect(results.at(-1)).toBe(-1);
    expect(q.pendingWrites).toBe(0);
  });
});
