/**
 * Running totals of what the mirror did that an operator should be able to see.
 * Plain numbers the proxy exposes through `stats()`; metrics subscribe to the
 * diagnostics channels instead (src/diagnostics/channels.ts).
 */
export interface MirrorCounters {
  /** Outbox entries dropped because a secondary's outbox was full (messages or bytes). */
  mirrorDropped: number;
  /** Outbox entries given up on after `secondary_max_attempts` unanswered sends. */
  mirrorSkipped: number;
  /** Outbox entries that could not be prepared for a secondary (unparseable for a needed rewrite): skipped. */
  mirrorUnsendable: number;
  /** Charger messages that could not be stored for a secondary (store over its memory budget, or closed). */
  mirrorLost: number;
  secondaryConnects: number;
  secondaryDisconnects: number;
  /** Frames from secondaries that were not valid OCPP-J. */
  secondaryInvalidFrames: number;
  /** Frames from secondaries dropped by the routing table (SEND, CALLRESULTERROR, stray answers). */
  secondaryDiscardedFrames: number;
  /** Charger answers to timed-out proxy CALLs: sent nowhere. */
  lateChargerAnswers: number;
  /** Failed commits of the durable store (the writes are kept and retried). */
  storeWriteErrors: number;
  /** Unexpected errors inside the mirror, contained before they could reach a charger or the primary. */
  mirrorFailures: number;
}

export function createMirrorCounters(): MirrorCounters {
  return {
    mirrorDropped: 0,
    mirrorSkipped: 0,
    mirrorUnsendable: 0,
    mirrorLost: 0,
    secondaryConnects: 0,
    secondaryDisconnects: 0,
    secondaryInvalidFrames: 0,
    secondaryDiscardedFrames: 0,
    lateChargerAnswers: 0,
    storeWriteErrors: 0,
    mirrorFailures: 0,
  };
}
