/**
 * A session's frame counters: plain numbers the frame path bumps (a few nanoseconds), which observers read
 * when they are asked (a Prometheus scrape, the status API) instead of hearing of every frame. The array is
 * handed to observers by reference in the session's start message, and its final values in its end message.
 *
 * Frames are counted by the message type their first element names (`[2,` a CALL, …), read from the first
 * bytes only: `invalid` is a frame without one (binary, not an array, an unknown type). Whether the rest of a
 * frame is valid is for the receiving end to judge, as the proxy forwards it either way.
 */
import type { FrameKind } from '../routing/route-frame.js';

export const FRAME_SOURCES = ['charger', 'primary', 'secondary'] as const;
export type FrameSource = (typeof FRAME_SOURCES)[number];
export const COUNTED_KINDS: readonly FrameKind[] = ['call', 'callresult', 'callerror', 'callresulterror', 'send', 'invalid'];

const KINDS = COUNTED_KINDS.length;
/** Index of the epoch ms of the last frame from the charger or the primary (0 before the first). */
export const LAST_FRAME_AT = FRAME_SOURCES.length * KINDS;

/** Counters of one session: [source × kind] then LAST_FRAME_AT. */
export type FrameCounts = Float64Array;

export function newFrameCounts(): FrameCounts {
  return new Float64Array(LAST_FRAME_AT + 1);
}

export function frameCountIndex(source: FrameSource, kind: FrameKind): number {
  return FRAME_SOURCES.indexOf(source) * KINDS + COUNTED_KINDS.indexOf(kind);
}

/** Index into a FrameCounts block (add the source's base, see SOURCE_BASE) of the frame's kind, from its first bytes. */
export function kindIndexOf(data: Buffer, isBinary: boolean): number {
  if (isBinary) return INVALID;
  let i = 0;
  const end = data.length;
  while (i < end && isSpace(data[i] ?? 0)) i++;
  if (data[i] !== OPEN_BRACKET) return INVALID;
  i++;
  while (i < end && isSpace(data[i] ?? 0)) i++;
  const digit = (data[i] ?? 0) - ZERO;
  i++;
  while (i < end && isSpace(data[i] ?? 0)) i++;
  if (data[i] !== COMMA) return INVALID;
  return digit >= 2 && digit <= 6 ? digit - 2 : INVALID;
}

/** Where each source's block starts in a FrameCounts. */
export const SOURCE_BASE: Readonly<Record<FrameSource, number>> = { charger: 0, primary: KINDS, secondary: 2 * KINDS };

const INVALID = COUNTED_KINDS.indexOf('invalid');
const OPEN_BRACKET = 0x5b;
const COMMA = 0x2c;
const ZERO = 0x30;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * A clock for "last frame at" that costs a property read: refreshed at most every 250 ms by a timer that does
 * not keep the process alive. Good to a quarter second, which is all a "last frame" column needs.
 */
let coarseNow = Date.now();
let ticking: NodeJS.Timeout | undefined;
const COARSE_CLOCK_MS = 250;

export function coarseClock(): number {
  if (ticking === undefined) {
    coarseNow = Date.now();
    ticking = setInterval(() => {
      coarseNow = Date.now();
    }, COARSE_CLOCK_MS).unref();
  }
  return coarseNow;
}
