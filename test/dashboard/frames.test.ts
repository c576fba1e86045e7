import { describe, expect, it } from 'vitest';
import {
  appendBounded,
  frameKey,
  INITIAL_INSPECTOR,
  inspectorReducer,
  legKey,
  matchesFilter,
  mergeFrames,
  parseFrame,
  prettyBody,
} from '../../dashboard/src/frames.js';
import type { Frame } from '../../dashboard/src/types.js';

function frame(n: number, overrides: Partial<Frame> = {}): Frame {
  return {
    at: new Date(Date.UTC(2026, 0, 1, 10, 0, 0, n)).toISOString(),
    charger: 'CP-1',
    leg: 'charger',
    secondary: null,
    direction: 'in',
    message_type: 2,
    type: 'call',
    message_id: `m${String(n)}`,
    action: 'Heartbeat',
    bytes: 20,
    body: `[2,"m${String(n)}","Heartbeat",{}]`,
    ...overrides,
  };
}

describe('frame inspector logic', () => {
  it('files a frame under its leg, and a secondary under its name', () => {
    expect(legKey(frame(1))).toBe('charger');
    expect(legKey(frame(1, { leg: 'primary' }))).toBe('primary');
    expect(legKey(frame(1, { leg: 'secondary', secondary: 'backup' }))).toBe('secondary:backup');
  });

  it('filters on action, message id and body, ignoring case', () => {
    const heartbeat = frame(1, { body: '[2,"m1","Heartbeat",{"note":"Hello"}]' });
    expect(matchesFilter(heartbeat, '')).toBe(true);
    expect(matchesFilter(heartbeat, 'heart')).toBe(true);
    expect(matchesFilter(heartbeat, 'M1')).toBe(true);
    expect(matchesFilter(heartbeat, 'hello')).toBe(true);
    expect(matchesFilter(heartbeat, 'Boot')).toBe(false);
    expect(matchesFilter(frame(2, { action: null, message_id: null, body: '' }), 'x')).toBe(false);
  });

  it('keeps the last frames only', () => {
    const frames = Array.from({ length: 8 }, (_, i) => frame(i));
    expect(appendBounded(frames.slice(0, 5), frames.slice(5), 4).map((f) => f.message_id)).toEqual(['m4', 'm5', 'm6', 'm7']);
  });

  it('merges a snapshot with what arrived live: no duplicates, in time order, bounded', () => {
    const live = [frame(3), frame(4)];
    const snapshot = [frame(1), frame(2), frame(3)];
    expect(mergeFrames(live, snapshot).map((f) => f.message_id)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(mergeFrames(live, snapshot, 3).map((f) => f.message_id)).toEqual(['m2', 'm3', 'm4']);
    // The same message on two legs is two frames.
    expect(frameKey(frame(1))).not.toBe(frameKey(frame(1, { leg: 'primary', direction: 'out' })));
  });

  it('holds what arrives while paused and shows it on resume', () => {
    let state = inspectorReducer(INITIAL_INSPECTOR, { type: 'live', frames: [frame(1)] });
    state = inspectorReducer(state, { type: 'pause' });
    state = inspectorReducer(state, { type: 'live', frames: [frame(2)] });
    state = inspectorReducer(state, { type: 'snapshot', frames: [frame(1), frame(3)] });
    expect(state.frames.map((f) => f.message_id)).toEqual(['m1']);
    expect(state.held.map((f) => f.message_id)).toEqual(['m2', 'm3']);
    state = inspectorReducer(state, { type: 'resume' });
    expect(state).toMatchObject({ paused: false, held: [] });
    expect(state.frames.map((f) => f.message_id)).toEqual(['m1', 'm2', 'm3']);
  });

  it('pretty-prints JSON bodies and shows anything else as sent', () => {
    expect(prettyBody('[2,"a","Heartbeat",{}]')).toBe('[\n  2,\n  "a",\n  "Heartbeat",\n  {}\n]');
    expect(prettyBody('[2,"a","Heart…')).toBe('[2,"a","Heart…');
  });

  it('reads an event as a Frame only when it has the fields the inspector shows', () => {
    expect(parseFrame(JSON.stringify(frame(1)))).toEqual(frame(1));
    expect(parseFrame('not json')).toBeNull();
    expect(parseFrame('[1]')).toBeNull();
    expect(parseFrame(JSON.stringify({ ...frame(1), leg: 'sideways' }))).toBeNull();
    expect(parseFrame(JSON.stringify({ ...frame(1), bytes: '20' }))).toBeNull();
  });
});
