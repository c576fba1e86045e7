import type WebSocket from 'ws';

interface Tracked {
  missed: number;
  readonly onPong: () => void;
}

/**
 * Keeps WebSocket legs alive and finds dead ones: every `intervalMs` each tracked
 * socket is pinged, and a socket that has not answered `maxMissed` pings in a row
 * is terminated (its 'close' event then ends the session it belongs to).
 *
 * One timer for all sockets rather than one per socket: with thousands of
 * chargers and two or three legs each, a shared sweep costs one timer and no
 * per-socket timer churn. Ping/pong checks one hop only (OCPP-J §5); OCPP
 * Heartbeats pass through untouched.
 */
export class Keepalive {
  readonly #intervalMs: number;
  readonly #maxMissed: number;
  readonly #sockets = new Map<WebSocket, Tracked>();
  #timer: NodeJS.Timeout | undefined;

  /** `intervalMs` 0 disables pinging; tracking is then a no-op. */
  constructor(intervalMs: number, maxMissed: number) {
    this.#intervalMs = intervalMs;
    this.#maxMissed = maxMissed;
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** Starts watching `socket`; returns the function that stops watching it. */
  track(socket: WebSocket): () => void {
    if (this.#intervalMs === 0) return noop;
    const tracked: Tracked = {
      missed: 0,
      onPong: () => {
        tracked.missed = 0;
      },
    };
    socket.on('pong', tracked.onPong);
    this.#sockets.set(socket, tracked);
    this.#timer ??= setInterval(() => this.#sweep(), this.#intervalMs).unref();
    return () => this.#untrack(socket);
  }

  close(): void {
    for (const socket of [...this.#sockets.keys()]) this.#untrack(socket);
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #untrack(socket: WebSocket): void {
    const tracked = this.#sockets.get(socket);
    if (tracked === undefined) return;
    socket.off('pong', tracked.onPong);
    this.#sockets.delete(socket);
    if (this.#sockets.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #sweep(): void {
    for (const [socket, tracked] of this.#sockets) {
      if (tracked.missed >= this.#maxMissed) {
        this.#untrack(socket);
        socket.terminate();
        continue;
      }
      tracked.missed += 1;
      if (socket.readyState === socket.OPEN) socket.ping();
    }
  }
}

function noop(): void {}
