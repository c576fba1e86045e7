/**
 * Running totals of what the mirror did that an operator should be able to see.
 * Plain numbers the proxy exposes through `stats()`; a metrics exporter reads
 * them rather than the mirror importing one.
 */
export interface MirrorCounters {
  /** Outbox entries dropped because a secondary's outbox was full. */
  mirrorDropped: number;
  /** Outbox entries given up on after `secondary_max_attempts` unanswered sends. */
  mirrorSkipped: number;
  secondaryConnects: number;
  secondaryDisconnects: number;
  /** Frames from secondaries that were not valid OCPP-J. */
  secondaryInvalidFrames: number;
  /** Failed flushes of the durable store (the writes are kept and retried). */
  storeWriteErrors: number;
  /** Unexpected errors inside the mirror, contained before they could reach a charger or the primary. */
  mirrorFailures: number;
}

export function createMirrorCounters(): MirrorCounters {
  return {
    mirrorDropped: 0,
    mirrorSkipped: 0,
    secondaryConnects: 0,
    secondaryDisconnects: 0,
    secondaryInvalidFrames: 0,
    storeWriteErrors: 0,
    mirrorFailures: 0,
  };
}
