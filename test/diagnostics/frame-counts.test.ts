/** The frame counters' kind reading: the first element of the frame, from its first bytes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COUNTED_KINDS, frameCountIndex, kindIndexOf, LAST_FRAME_AT, newFrameCounts, SOURCE_BASE } from '../../src/diagnostics/frame-counts.js';
import { classifyFrame } from '../../src/routing/route-frame.js';

const kindOf = (text: string, isBinary = false): string | undefined => COUNTED_KINDS[kindIndexOf(Buffer.from(text), isBinary)];

describe('kindIndexOf', () => {
  it.each([
    ['[2,"1","Heartbeat",{}]', 'call'],
    [' \n[ 3 , "1", {}]', 'callresult'],
    ['[4,"1","GenericError","",{}]', 'callerror'],
    ['[5,"1","GenericError","",{}]', 'callresulterror'],
    ['[6,"1","NotifyPeriodicEventStream",{}]', 'send'],
    ['[7,"1"]', 'invalid'],
    ['[22,"1"]', 'invalid'],
    ['{"not":"a frame"}', 'invalid'],
    ['', 'invalid'],
    ['[', 'invalid'],
    ['[2', 'invalid'],
  ])('%s → %s', (text, kind) => {
    expect(kindOf(text)).toBe(kind);
  });

  it('counts a binary frame as invalid', () => {
    expect(kindOf('[2,"1","Heartbeat",{}]', true)).toBe('invalid');
  });

  it('agrees with the routing table\'s reading on every frame the latter accepts', () => {
    fc.assert(
      fc.property(fc.constantFrom(2, 3, 4, 5, 6), fc.string({ minLength: 1, maxLength: 36 }), fc.string({ maxLength: 20 }), (type, id, action) => {
        const text = type === 2 || type === 6 ? JSON.stringify([type, id, action || 'A', {}]) : type === 3 ? JSON.stringify([type, id, {}]) : JSON.stringify([type, id, 'GenericError', '', {}]);
        const routed = classifyFrame(text, false);
        if (routed.kind !== 'invalid') expect(kindOf(text)).toBe(routed.kind);
      }),
    );
  });

  it('lays out the counters by source, then kind, then the last frame time', () => {
    const counts = newFrameCounts();
    expect(counts.length).toBe(LAST_FRAME_AT + 1);
    expect(frameCountIndex('primary', 'call')).toBe(SOURCE_BASE.primary);
    expect(frameCountIndex('secondary', 'invalid')).toBe(LAST_FRAME_AT - 1);
  });
});
