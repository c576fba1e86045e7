/**
 * A small SVG line chart of the last samples, newest at the right edge; `capacity` samples fill the width,
 * so the line grows from the right as history accumulates. The label is its accessible name.
 */

export interface SparklineProps {
  readonly values: readonly number[];
  readonly capacity: number;
  readonly label: string;
  readonly height?: number;
  readonly testId?: string;
}

/** Drawing units across; the SVG stretches to its box (the stroke does not, see the CSS). */
const WIDTH = 300;
/** Leaves room for the stroke at the top and bottom edges. */
const PAD = 2;

export function Sparkline({ values, capacity, label, height = 48, testId }: SparklineProps) {
  const max = Math.max(1, ...values);
  const step = WIDTH / Math.max(1, capacity - 1);
  const base = height - PAD;
  const points = values.map((value, i) => {
    const x = WIDTH - (values.length - 1 - i) * step;
    const y = base - (value / max) * (height - 2 * PAD);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const first = points[0]?.split(',')[0] ?? String(WIDTH);
  return (
    <svg class="sparkline" role="img" aria-label={label} viewBox={`0 0 ${String(WIDTH)} ${String(height)}`} preserveAspectRatio="none" height={height} data-testid={testId} data-samples={values.length}>
      <title>{label}</title>
      <line class="sparkline-base" x1="0" x2={WIDTH} y1={base} y2={base} />
      {points.length > 1 ? (
        <>
          <polygon class="sparkline-area" points={`${first},${String(base)} ${points.join(' ')} ${String(WIDTH)},${String(base)}`} />
          <polyline class="sparkline-line" points={points.join(' ')} />
        </>
      ) : null}
    </svg>
  );
}
