import { describe, expect, it } from 'vitest';
import { LogThrottle, THROTTLED_LOG_INTERVAL_MS } from '../../src/logging/log-throttle.js';

describe('LogThrottle', () => {
  it('admits one line per key and interval, the next one saying how many were left out', () => {
    let now = 1_000_000;
    const throttle = new LogThrottle(THROTTLED_LOG_INTERVAL_MS, () => now);
    expect(throttle.admit('a')).toEqual({ suppressed: 0 });
    for (let i = 0; i < 5; i += 1) expect(throttle.admit('a')).toBeUndefined();
    // Another key has its own interval.
    expect(throttle.admit('b')).toEqual({ suppressed: 0 });
    now += THROTTLED_LOG_INTERVAL_MS - 1;
    expect(throttle.admit('a')).toBeUndefined();
    now += 1;
    expect(throttle.admit('a')).toEqual({ suppressed: 6 });
    expect(throttle.admit('a')).toBeUndefined();
    now += THROTTLED_LOG_INTERVAL_MS;
    expect(throttle.admit('a')).toEqual({ suppressed: 1 });
  });
});
