/**
 * The frame inspector's logic, pure (unit-tested under Node): which leg tab a frame belongs to, the text
 * filter, the bounded buffer, and merging the charger's recent frames with those that arrived live.
 */
import type { Frame } from './types.js';

/** Frames kept per charger page; older ones fall off the top. */
export const FRAME_BUFFER_LIMIT = 500;

/** The inspector's tab for a frame: 'charger', 'primary', or the secondary's name. */
export function legKey(frame: Frame): string {
  return frame.leg === 'secondary' ? `secondary:${frame.secondary ?? ''}` : frame.leg;
}

export function legLabel(frame: Frame): string {
  return frame.leg === 'secondary' ? (frame.secondary ?? 'secondary') : frame.leg;
}

/** Case-insensitive substring of the action, the message id or the body. */
export function matchesFilter(frame: Frame, filter: string): boolean {
  const needle = filter.trim().toLowerCase();
  if (needle === '') return true;
  return [frame.action, frame.message_id, frame.body].some((text) => text !== null && text.toLowerCase().includes(needle));
}

/** `frames` followed by `more`, keeping the last `limit`. */
export function appendBounded(frames: readonly Frame[], more: readonly Frame[], limit = FRAME_BUFFER_LIMIT): Frame[] {
  const joined = frames.length === 0 ? [...more] : [...frames, ...more];
  return joined.length > limit ? joined.slice(joined.length - limit) : joined;
}

/** Identifies a frame across the detail snapshot and the live stream (both carry the same record). */
export function frameKey(frame: Frame): string {
  return [frame.at, frame.leg, frame.secondary ?? '', frame.direction, frame.message_id ?? '', String(frame.bytes), frame.type].join('\u0000');
}

const byTime = (a: Frame, b: Frame): number => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0);

/**
 * `current` with the frames of `incoming` it does not hold yet, in time order, keeping the last `limit`.
 * For snapshots (the charger's recent frames, fetched each time the stream connects), which overlap
 * what arrived live; ISO timestamps of one clock sort as strings, and the sort is stable.
 */
export function mergeFrames(current: readonly Frame[], incoming: readonly Frame[], limit = FRAME_BUFFER_LIMIT): Frame[] {
  const seen = new Set(current.map(frameKey));
  const added: Frame[] = [];
  for (const frame of incoming) {
    const key = frameKey(frame);
    if (seen.has(key)) continue;
    seen.add(key);
    added.push(frame);
  }
  if (added.length === 0) return [...current];
  const all = [...current, ...added].sort(byTime);
  return all.length > limit ? all.slice(all.length - limit) : all;
}

/** What the inspector holds: frames shown, and those that arrived while paused. */
export interface InspectorState {
  readonly frames: readonly Frame[];
  readonly held: readonly Frame[];
  readonly paused: boolean;
}

export type InspectorAction =
  | { readonly type: 'live'; readonly frames: readonly Frame[] }
  | { readonly type: 'snapshot'; readonly frames: readonly Frame[] }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'clear' };

export const INITIAL_INSPECTOR: InspectorState = { frames: [], held: [], paused: false };

/** Pausing stops the list from moving; what arrives meanwhile is held (bounded too) and shown on resume. */
export function inspectorReducer(state: InspectorState, action: InspectorAction): InspectorState {
  switch (action.type) {
    case 'live':
      return state.paused ? { ...state, held: appendBounded(state.held, action.frames) } : { ...state, frames: appendBounded(state.frames, action.frames) };
    case 'snapshot': {
      if (!state.paused) return { ...state, frames: mergeFrames(state.frames, action.frames) };
      const shown = new Set(state.frames.map(frameKey));
      return { ...state, held: mergeFrames(state.held, action.frames.filter((frame) => !shown.has(frameKey(frame)))) };
    }
    case 'pause':
      return { ...state, paused: true };
    case 'resume':
      return { frames: mergeFrames(state.frames, state.held), held: [], paused: false };
    case 'clear':
      return { ...state, frames: [], held: [] };
  }
}

/** The body indented when it is JSON; as sent otherwise (truncated bodies do not parse). */
export function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

const FRAME_TYPES = new Set(['call', 'callresult', 'callerror', 'callresulterror', 'send', 'invalid']);

/** An event's data as a Frame, or null when it is not one (the inspector shows only what it can read). */
export function parseFrame(data: string): Frame | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  return isFrame(value) ? value : null;
}

function isFrame(value: unknown): value is Frame {
  if (typeof value !== 'object' || value === null) return false;
  const frame: Partial<Record<keyof Frame, unknown>> = value;
  return (
    typeof frame.at === 'string' &&
    typeof frame.charger === 'string' &&
    (frame.leg === 'charger' || frame.leg === 'primary' || frame.leg === 'secondary') &&
    (frame.secondary === null || typeof frame.secondary === 'string') &&
    (frame.direction === 'in' || frame.direction === 'out') &&
    typeof frame.type === 'string' &&
    FRAME_TYPES.has(frame.type) &&
    (frame.message_id === null || typeof frame.message_id === 'string') &&
    (frame.action === null || typeof frame.action === 'string') &&
    typeof frame.bytes === 'number' &&
    typeof frame.body === 'string'
  );
}
