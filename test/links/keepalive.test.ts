import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type WebSocket from 'ws';
import { Keepalive } from '../../src/links/keepalive.js';

/** Just what the sweep touches: ping, terminate, readyState and the 'pong' event. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  pings = 0;
  terminated = false;
  ping(): void {
    this.pings += 1;
  }
  terminate(): void {
    this.terminated = true;
  }
}

const asSocket = (fake: FakeSocket): WebSocket => fake as unknown as WebSocket;

afterEach(() => {
  vi.useRealTimers();
});

describe('Keepalive', () => {
  it('pings every interval and terminates after maxMissed unanswered pings', () => {
    vi.useFakeTimers();
    const keepalive = new Keepalive(1000, 2);
    const socket = new FakeSocket();
    keepalive.track(asSocket(socket));
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(1000);
    expect(socket.pings).toBe(2);
    expect(socket.terminated).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(socket.terminated).toBe(true);
    expect(keepalive.size).toBe(0);
  });

  it('a pong resets the count', () => {
    vi.useFakeTimers();
    const keepalive = new Keepalive(1000, 1);
    const socket = new FakeSocket();
    keepalive.track(asSocket(socket));
    for (let i = 0; i < 10; i += 1) {
      vi.advanceTimersByTime(1000);
      socket.emit('pong');
    }
    expect(socket.terminated).toBe(false);
    expect(socket.pings).toBe(10);
    keepalive.close();
  });

  it('untracking removes its listener and stops the timer when nothing is left', () => {
    vi.useFakeTimers();
    const keepalive = new Keepalive(1000, 2);
    const socket = new FakeSocket();
    const untrack = keepalive.track(asSocket(socket));
    expect(socket.listenerCount('pong')).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    untrack();
    untrack();
    expect(socket.listenerCount('pong')).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(keepalive.size).toBe(0);
  });

  it('an interval of 0 disables it', () => {
    vi.useFakeTimers();
    const keepalive = new Keepalive(0, 2);
    const socket = new FakeSocket();
    keepalive.track(asSocket(socket));
    vi.advanceTimersByTime(100_000);
    expect(socket.pings).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
