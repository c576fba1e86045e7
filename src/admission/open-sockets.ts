import type { Duplex } from 'node:stream';

/**
 * Runs `release` once `socket` has closed (at once if it already has). A charger's TCP socket outlives its
 * handshake and becomes its session's, so what is counted for the connection is let go exactly when the
 * connection is gone, whichever way it went.
 */
export function onceClosed(socket: Duplex, release: () => void): void {
  if (socket.closed) release();
  else socket.once('close', release);
}

/** Sockets counted until they close: the charger connections `max_connections` bounds. */
export class OpenSockets {
  readonly #sockets = new Set<Duplex>();

  get size(): number {
    return this.#sockets.size;
  }

  /** Counts `socket` until it closes; counting one twice changes nothing. */
  add(socket: Duplex): void {
    if (this.#sockets.has(socket) || socket.closed) return;
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }
}
