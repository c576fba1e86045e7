import type { Duplex } from 'node:stream';
import type { MemoryBudget } from '../mirror/memory-budget.js';

/** Bytes a charger may send before its 101 beyond one maximal frame (frame headers, a second small frame). */
export const EARLY_BYTES_MARGIN = 64 * 1024;

export interface PendingSocketWatch {
  /**
   * Stops watching, pauses the socket, gives back to the shared budget what it held, and returns `head`
   * followed by the bytes the charger sent meanwhile.
   */
  stop(head: Buffer): Buffer;
}

/** The process-wide budget of bytes held for chargers before their 101 (`max_pending_handshake_bytes`). */
export interface SharedEarlyBytes {
  readonly budget: MemoryBudget;
  /** Called when a chunk does not fit: the chunk is dropped and the socket no longer read. */
  readonly onExhausted: () => void;
}

/**
 * Watches a charger's socket while its upgrade waits for the primary. After the
 * HTTP parser lets go of an upgrade socket nobody reads it, so a charger that
 * leaves goes unnoticed and a reset has no 'error' listener. Reading it notices
 * both; bytes an eager charger sends before its 101 are kept and handed back as
 * part of the upgrade head, so even those are not lost: up to `maxEarlyBytes` per charger and, with `shared`,
 * within a budget for all of them together.
 */
export function watchPendingSocket(socket: Duplex, maxEarlyBytes: number, onGone: () => void, shared?: SharedEarlyBytes): PendingSocketWatch {
  const early: Buffer[] = [];
  let earlyBytes = 0;
  let held = 0;
  const onData = (chunk: Buffer): void => {
    earlyBytes += chunk.length;
    if (earlyBytes > maxEarlyBytes) {
      // More than one frame's worth before its 101: not a charger behaving as one. Bounded, then dropped.
      socket.destroy();
      return;
    }
    if (shared !== undefined) {
      if (!shared.budget.tryReserve(chunk.length)) {
        // Every pending charger together holds the budget: this one is turned away, the others keep theirs.
        socket.off('data', onData);
        socket.pause();
        shared.onExhausted();
        return;
      }
      held += chunk.length;
    }
    early.push(chunk);
  };
  socket.on('data', onData);
  socket.on('end', onGone);
  socket.on('close', onGone);
  socket.on('error', onGone);
  return {
    stop(head) {
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      socket.off('error', onGone);
      socket.pause();
      shared?.budget.release(held);
      held = 0;
      return early.length === 0 ? head : Buffer.concat([head, ...early]);
    },
  };
}
