/**
 * What every page shares, polled once for the whole app: the status (counts, frame totals, handshakes)
 * and the secondaries, each with a short history for the charts. Kept above the router, so the charts
 * keep their history while the user moves between pages.
 */
import { useCallback, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { usePoll, type Polled } from './hooks.js';
import { HISTORY_LENGTH, pushSample, ratePerSecond, type TotalsSample } from './rates.js';
import type { Secondary, SecondaryError, Status } from './types.js';

/** Errors remembered per secondary (the API reports only the last one). */
export const ERRORS_KEPT = 10;

export interface FrameRates {
  /** Frames per second over all legs, one sample per poll. */
  readonly total: readonly number[];
  /** The latest rate per leg; null before two samples. */
  readonly latest: { readonly charger: number | null; readonly primary: number | null; readonly secondary: number | null };
}

export interface StatusFeed extends Polled<Status> {
  readonly rates: FrameRates;
}

export function useStatusFeed(): StatusFeed {
  const previous = useRef<{ atMs: number; status: Status } | null>(null);
  const [rates, setRates] = useState<FrameRates>({ total: [], latest: { charger: null, primary: null, secondary: null } });
  const onData = useCallback((status: Status) => {
    const atMs = Date.now();
    const before = previous.current;
    previous.current = { atMs, status };
    const rate = (pick: (s: Status) => number): number | null => {
      const earlier: TotalsSample | null = before === null ? null : { atMs: before.atMs, total: pick(before.status) };
      return ratePerSecond(earlier, { atMs, total: pick(status) });
    };
    const latest = {
      charger: rate((s) => s.frames_total.charger),
      primary: rate((s) => s.frames_total.primary),
      secondary: rate((s) => s.frames_total.secondary),
    };
    const total = rate((s) => s.frames_total.charger + s.frames_total.primary + s.frames_total.secondary);
    setRates((current) => ({ total: total === null ? current.total : pushSample(current.total, total), latest }));
  }, []);
  const polled = usePoll((signal) => api.status(signal), [], onData);
  return { ...polled, rates };
}

export interface SecondaryHistory {
  /** Backlog (messages), one sample per poll, oldest first. */
  readonly backlog: readonly number[];
  /** Newest first. */
  readonly errors: readonly SecondaryError[];
}

export interface SecondariesFeed extends Polled<Secondary[]> {
  readonly history: ReadonlyMap<string, SecondaryHistory>;
}

export function useSecondariesFeed(): SecondariesFeed {
  const [history, setHistory] = useState<ReadonlyMap<string, SecondaryHistory>>(new Map());
  const onData = useCallback((secondaries: Secondary[]) => {
    setHistory((current) => {
      const next = new Map<string, SecondaryHistory>();
      for (const secondary of secondaries) {
        const before = current.get(secondary.name) ?? { backlog: [], errors: [] };
        next.set(secondary.name, {
          backlog: pushSample(before.backlog, secondary.outbox_messages, HISTORY_LENGTH),
          errors: latestErrors(secondary, before.errors),
        });
      }
      return next;
    });
  }, []);
  const polled = usePoll((signal) => api.secondaries(signal), [], onData);
  return { ...polled, history };
}

/** The server's recent errors when it sends them; otherwise each distinct `last_error` seen while polling. */
function latestErrors(secondary: Secondary, seen: readonly SecondaryError[]): readonly SecondaryError[] {
  if (secondary.recent_errors !== undefined) return [...secondary.recent_errors].reverse().slice(0, ERRORS_KEPT);
  const error = secondary.last_error;
  if (error === null || seen.some((known) => known.at === error.at && known.message === error.message)) return seen;
  return [error, ...seen].slice(0, ERRORS_KEPT);
}

/** A secondary's health as one word: paused, open (some charger's link is up), waiting, or idle (no charger). */
export function secondaryHealth(secondary: Secondary, chargers: number | undefined): 'paused' | 'open' | 'waiting' | 'idle' {
  if (secondary.paused) return 'paused';
  if (secondary.links_connected > 0) return 'open';
  return chargers === 0 ? 'idle' : 'waiting';
}
