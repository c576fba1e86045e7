/** Horizontal bars for a handful of labelled counts (handshake outcomes). */

export interface BarsProps {
  readonly entries: ReadonlyArray<readonly [label: string, value: number]>;
  readonly label: string;
  readonly testId?: string;
}

export function Bars({ entries, label, testId }: BarsProps) {
  const max = Math.max(1, ...entries.map(([, value]) => value));
  if (entries.length === 0) return <p class="muted">None yet.</p>;
  return (
    <ul class="bars" aria-label={label} data-testid={testId}>
      {entries.map(([name, value]) => (
        <li key={name} class="bar-row">
          <span class="bar-label">{name}</span>
          <span class="bar-track" aria-hidden="true">
            <span class={`bar-fill bar-${name}`} style={{ width: `${String((value / max) * 100)}%` }} />
          </span>
          <span class="bar-value">{value}</span>
        </li>
      ))}
    </ul>
  );
}
