/**
 * The live frame inspector of one charger: every leg (charger, primary, each secondary), newest first,
 * with leg tabs, a text filter, pause, and each frame's body on demand.
 */
import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { followEvents, type StreamState } from '../event-stream.js';
import { INITIAL_INSPECTOR, FRAME_BUFFER_LIMIT, frameKey, inspectorReducer, legKey, legLabel, matchesFilter, parseFrame, prettyBody } from '../frames.js';
import { formatClock } from '../format.js';
import type { DroppedEvent, Frame, LinkEvent, SessionEvent } from '../types.js';

export interface FrameInspectorProps {
  readonly chargerId: string;
  /** The charger's secondaries, so their tabs exist before their first frame. */
  readonly secondaries: readonly string[];
  readonly onSession: (event: SessionEvent) => void;
  readonly onLink: (event: LinkEvent) => void;
}

const ALL = 'all';

export function FrameInspector({ chargerId, secondaries, onSession, onLink }: FrameInspectorProps) {
  const [state, dispatch] = useReducer(inspectorReducer, INITIAL_INSPECTOR);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [tab, setTab] = useState(ALL);
  const [filter, setFilter] = useState('');
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  /** Frames the server left out because this page read too slowly. */
  const [dropped, setDropped] = useState(0);
  const callbacks = useRef({ onSession, onLink });
  callbacks.current = { onSession, onLink };

  useEffect(() => {
    const controller = new AbortController();
    dispatch({ type: 'clear' });
    setDropped(0);
    const loadSnapshot = async (): Promise<void> => {
      try {
        const detail = await api.charger(chargerId, controller.signal);
        dispatch({ type: 'snapshot', frames: detail.recent_frames });
      } catch (error) {
        // 404 while the charger is away; the details panel says so. Live frames still arrive when it returns.
        if (!controller.signal.aborted) console.info(`frames: no snapshot of ${chargerId}`, error);
      }
    };
    void followEvents(
      api.eventsUrl(chargerId),
      {
        onState: (next) => {
          setStream(next);
          // Each (re)connection: the frames sent while the stream was down come from the snapshot.
          if (next === 'live') void loadSnapshot();
        },
        onEvents: (events) => {
          const frames: Frame[] = [];
          for (const event of events) {
            if (event.event === 'frame') {
              const frame = parseFrame(event.data);
              if (frame !== null) frames.push(frame);
            } else if (event.event === 'session') {
              const session = parseJson<SessionEvent>(event.data);
              if (session !== null) callbacks.current.onSession(session);
            } else if (event.event === 'link') {
              const link = parseJson<LinkEvent>(event.data);
              if (link !== null) callbacks.current.onLink(link);
            } else if (event.event === 'dropped') {
              const count = parseJson<DroppedEvent>(event.data)?.count;
              if (typeof count === 'number') setDropped((total) => total + count);
            }
          }
          if (frames.length > 0) dispatch({ type: 'live', frames });
        },
      },
      controller.signal,
    );
    return () => controller.abort();
  }, [chargerId]);

  const tabs = useMemo(() => {
    const names = new Set(secondaries);
    for (const frame of state.frames) if (frame.leg === 'secondary' && frame.secondary !== null) names.add(frame.secondary);
    return [
      { key: ALL, label: 'All' },
      { key: 'charger', label: 'Charger' },
      { key: 'primary', label: 'Primary' },
      ...[...names].sort().map((name) => ({ key: `secondary:${name}`, label: name })),
    ];
  }, [secondaries, state.frames]);

  const shown = useMemo(
    () => state.frames.filter((frame) => (tab === ALL || legKey(frame) === tab) && matchesFilter(frame, filter)).reverse(),
    [state.frames, tab, filter],
  );

  const toggle = (key: string): void =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(key)) next.add(key);
      return next;
    });

  return (
    <section class="panel inspector" aria-labelledby="inspector-heading">
      <div class="inspector-head">
        <h2 id="inspector-heading">Frames</h2>
        <span class={`stream stream-${stream}`} data-testid="stream-state" role="status">
          {stream}
        </span>
      </div>
      <div class="tabs" role="tablist" aria-label="Leg">
        {tabs.map(({ key, label }) => (
          <button
            key={key}
            type="button"
            role="tab"
            aria-selected={tab === key}
            aria-controls="frames-panel"
            class={tab === key ? 'tab selected' : 'tab'}
            data-testid={`leg-tab-${key}`}
            onClick={() => setTab(key)}
          >
            {label}
          </button>
        ))}
      </div>
      <div class="toolbar">
        <label class="filter">
          <span class="visually-hidden">Filter frames</span>
          <input
            type="search"
            placeholder="Filter: action, message id, body"
            value={filter}
            onInput={(event) => setFilter(event.currentTarget.value)}
            data-testid="frame-filter"
          />
        </label>
        <button
          type="button"
          aria-pressed={state.paused}
          data-testid="frames-pause"
          onClick={() => dispatch({ type: state.paused ? 'resume' : 'pause' })}
        >
          {state.paused ? `Resume (${String(state.held.length)} new)` : 'Pause'}
        </button>
        <button type="button" onClick={() => dispatch({ type: 'clear' })}>
          Clear
        </button>
        <span class="muted" data-testid="frame-count">
          {shown.length} of {state.frames.length} frames (last {FRAME_BUFFER_LIMIT} kept)
          {dropped > 0 ? `; ${String(dropped)} not shown: this page read too slowly` : ''}
        </span>
      </div>
      <div class="table-wrap frames" id="frames-panel" role="tabpanel" aria-label="Frames of the selected leg">
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Leg</th>
              <th scope="col">Dir.</th>
              <th scope="col">Type</th>
              <th scope="col">Action</th>
              <th scope="col">Message id</th>
              <th scope="col" class="num">
                Bytes
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((frame) => {
              const key = frameKey(frame);
              return <FrameRow key={key} frame={frame} expanded={open.has(key)} onToggle={() => toggle(key)} />;
            })}
          </tbody>
        </table>
        {shown.length === 0 ? <p class="muted">{state.frames.length === 0 ? 'Waiting for frames…' : 'No frame matches.'}</p> : null}
      </div>
    </section>
  );
}

function FrameRow({ frame, expanded, onToggle }: { frame: Frame; expanded: boolean; onToggle: () => void }) {
  const leg = legLabel(frame);
  const received = frame.direction === 'in';
  return (
    <>
      <tr data-testid="frame-row" class={`frame frame-${frame.type}`} onClick={onToggle}>
        <td class="mono">
          <button type="button" class="disclosure" aria-expanded={expanded} aria-label={expanded ? 'Hide body' : 'Show body'}>
            {expanded ? '▾' : '▸'}
          </button>{' '}
          {formatClock(frame.at)}
        </td>
        <td data-testid="frame-leg">{leg}</td>
        <td class={`direction direction-${frame.direction}`} title={received ? `received from ${leg}` : `sent to ${leg}`}>
          <span aria-hidden="true">{received ? '←' : '→'}</span>
          <span class="visually-hidden">{received ? `received from ${leg}` : `sent to ${leg}`}</span>
        </td>
        <td>{frame.type}</td>
        <td data-testid="frame-action">{frame.action ?? ''}</td>
        <td class="mono">{frame.message_id ?? ''}</td>
        <td class="num">{frame.bytes}</td>
      </tr>
      {expanded ? (
        <tr class="frame-body">
          <td colSpan={7}>
            <pre data-testid="frame-body">{prettyBody(frame.body)}</pre>
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** Session and link events are shown, never trusted for more than their fields; null when not JSON. */
function parseJson<T extends object>(data: string): T | null {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null ? (value as T) : null;
  } catch {
    return null;
  }
}
