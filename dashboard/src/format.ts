/** How numbers, sizes and times read on the pages. */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB'] as const;

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? String(value) : value.toFixed(1)} ${BYTE_UNITS[unit] ?? ''}`;
}

/** A duration in seconds as "42 s", "3 min", "2 h 5 min", "3 d 4 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${String(s)} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${String(minutes)} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${String(hours)} h ${String(minutes % 60)} min`;
  return `${String(Math.floor(hours / 24))} d ${String(hours % 24)} h`;
}

/** Seconds from `iso` to `nowMs`, as a duration; "—" for null. */
export function formatSince(iso: string | null, nowMs: number): string {
  if (iso === null) return '—';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  return `${formatDuration((nowMs - at) / 1000)} ago`;
}

/** The local wall-clock time with milliseconds: frames come many per second. */
export function formatClock(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return '—';
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}
