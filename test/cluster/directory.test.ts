import { afterEach, describe, expect, it, vi } from 'vitest';
import { RELEASE_TIMEOUT_MS, SessionDirectory } from '../../src/cluster/directory.js';
import type { PrimaryToWorker } from '../../src/cluster/messages.js';

afterEach(() => {
  vi.useRealTimers();
});

function directory() {
  const sent: Array<{ workerId: number; message: PrimaryToWorker }> = [];
  const timeouts: Array<{ identity: string; workerId: number }> = [];
  const dir = new SessionDirectory(
    (workerId, message) => sent.push({ workerId, message }),
    (identity, workerId) => timeouts.push({ identity, workerId }),
  );
  return { dir, sent, timeouts };
}

describe('SessionDirectory', () => {
  it('grants an unowned identity at once and records the owner', async () => {
    const { dir, sent } = directory();
    await dir.claim('CP-1', 1);
    expect(dir.ownerOf('CP-1')).toBe(1);
    expect(sent).toEqual([]);
  });

  it('a claim by the owner itself needs no release', async () => {
    const { dir, sent } = directory();
    await dir.claim('CP-1', 1);
    await dir.claim('CP-1', 1);
    expect(sent).toEqual([]);
  });

  it('a claim for an identity another worker serves waits until that worker released it', async () => {
    const { dir, sent } = directory();
    await dir.claim('CP-1', 1);
    let granted = false;
    const claim = dir.claim('CP-1', 2).then(() => (granted = true));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toMatchObject({ workerId: 1, message: { ocppSplitter: 'release', identity: 'CP-1' } });
    await Promise.resolve();
    expect(granted).toBe(false);
    const message = sent[0]!.message;
    if (message.ocppSplitter !== 'release') throw new Error('expected a release');
    dir.released(message.requestId);
    await claim;
    expect(dir.ownerOf('CP-1')).toBe(2);
  });

  it('claims for one identity are served one after another', async () => {
    const { dir, sent } = directory();
    await dir.claim('CP-1', 1);
    const order: number[] = [];
    const second = dir.claim('CP-1', 2).then(() => order.push(2));
    const third = dir.claim('CP-1', 3).then(() => order.push(3));
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    const first = sent[0]!.message;
    if (first.ocppSplitter !== 'release') throw new Error('expected a release');
    dir.released(first.requestId);
    await second;
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[1]).toMatchObject({ workerId: 2, message: { ocppSplitter: 'release' } });
    const next = sent[1]!.message;
    if (next.ocppSplitter !== 'release') throw new Error('expected a release');
    dir.released(next.requestId);
    await third;
    expect(order).toEqual([2, 3]);
    expect(dir.ownerOf('CP-1')).toBe(3);
  });

  it('a worker that never answers does not block the claim for ever', async () => {
    vi.useFakeTimers();
    const { dir, timeouts } = directory();
    await dir.claim('CP-1', 1);
    const claim = dir.claim('CP-1', 2);
    await vi.advanceTimersByTimeAsync(RELEASE_TIMEOUT_MS);
    await claim;
    expect(timeouts).toEqual([{ identity: 'CP-1', workerId: 1 }]);
    expect(dir.ownerOf('CP-1')).toBe(2);
  });

  it('a worker that exits releases everything it owed and owned', async () => {
    const { dir } = directory();
    await dir.claim('CP-1', 1);
    await dir.claim('CP-2', 1);
    const claim = dir.claim('CP-1', 2);
    dir.workerGone(1);
    await claim;
    expect(dir.ownerOf('CP-1')).toBe(2);
    expect(dir.ownerOf('CP-2')).toBeUndefined();
  });

  it('only the owner can end an identity', async () => {
    const { dir } = directory();
    await dir.claim('CP-1', 1);
    dir.ended('CP-1', 2);
    expect(dir.ownerOf('CP-1')).toBe(1);
    dir.ended('CP-1', 1);
    expect(dir.size).toBe(0);
  });
});
