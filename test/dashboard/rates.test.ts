import { describe, expect, it } from 'vitest';
import { RECONNECT_FIRST_DELAY_MS, RECONNECT_MAX_DELAY_MS, reconnectDelayMs } from '../../dashboard/src/backoff.js';
import { formatBytes, formatDuration, formatRate } from '../../dashboard/src/format.js';
import { pushSample, ratePerSecond } from '../../dashboard/src/rates.js';

describe('dashboard numbers', () => {
  it('computes frames per second from running totals; none across a restart', () => {
    expect(ratePerSecond(null, { atMs: 2_000, total: 10 })).toBeNull();
    expect(ratePerSecond({ atMs: 0, total: 10 }, { atMs: 2_000, total: 30 })).toBe(10);
    expect(ratePerSecond({ atMs: 0, total: 30 }, { atMs: 2_000, total: 5 })).toBeNull();
  });

  it('keeps a bounded history', () => {
    expect(pushSample([1, 2, 3], 4, 3)).toEqual([2, 3, 4]);
  });

  it('formats sizes, durations and rates', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3 h 5 min');
    expect(formatDuration(2 * 86_400 + 3600)).toBe('2 d 1 h');
    expect(formatRate(null)).toBe('—');
    expect(formatRate(2.25)).toBe('2.3');
  });

  it('reconnects the event stream after a doubling, capped, jittered delay', () => {
    expect(reconnectDelayMs(0, () => 0.5)).toBe(RECONNECT_FIRST_DELAY_MS);
    expect(reconnectDelayMs(1, () => 0.5)).toBe(2 * RECONNECT_FIRST_DELAY_MS);
    expect(reconnectDelayMs(50, () => 0.5)).toBe(RECONNECT_MAX_DELAY_MS);
    expect(reconnectDelayMs(0, () => 0)).toBe(0.8 * RECONNECT_FIRST_DELAY_MS);
    expect(reconnectDelayMs(0, () => 1)).toBe(1.2 * RECONNECT_FIRST_DELAY_MS);
  });
});
