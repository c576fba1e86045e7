/** Polling and clock hooks shared by the pages. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { onAuthChange } from './auth.js';
import { POLL_INTERVAL_MS } from './rates.js';

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  /** Polls now instead of at the next tick (after an action). */
  readonly refresh: () => void;
}

/**
 * Calls `load` now and every `intervalMs` after the previous call settled (never two at once), and again
 * whenever the token changes; `onData` sees each answer as it arrives (for histories). Stops on unmount.
 */
export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  onData?: (data: T) => void,
  intervalMs = POLL_INTERVAL_MS,
): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const kick = useRef<() => void>(() => undefined);
  const latest = useRef({ load, onData });
  latest.current = { load, onData };

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    /** A refresh asked for while a poll was in flight: that poll's answer may predate the action. */
    let again = false;
    setData(undefined);
    setError(undefined);

    const tick = async (): Promise<void> => {
      clearTimeout(timer);
      if (controller.signal.aborted) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        const value = await latest.current.load(controller.signal);
        if (controller.signal.aborted) return;
        latest.current.onData?.(value);
        setData(value);
        setError(undefined);
      } catch (caught) {
        if (controller.signal.aborted) return;
        setError(caught instanceof Error ? caught : new Error(String(caught)));
      } finally {
        running = false;
        if (!controller.signal.aborted) timer = setTimeout(() => void tick(), again ? 0 : intervalMs);
        again = false;
      }
    };
    kick.current = () => void tick();
    const unsubscribe = onAuthChange(kick.current);
    void tick();
    return () => {
      controller.abort();
      clearTimeout(timer);
      unsubscribe();
    };
    // `deps` names what `load` depends on; `load` itself is read through the ref.
  }, [...deps, intervalMs]);

  return { data, error, refresh: () => kick.current() };
}

/** The current time, updated every `intervalMs`, for "… ago" columns. */
export function useNow(intervalMs = 1_000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
