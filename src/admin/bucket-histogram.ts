/**
 * A histogram without labels whose `observe()` is an array walk (tens of nanoseconds): the call-duration
 * histogram observes every charger CALL, and prom-client's own Histogram spends several times that per
 * observation on its label map. It registers in a prom-client Registry as a custom metric (the registry asks
 * it for its values at scrape time), and aggregates across workers by summing, as prom-client's does.
 */
import type { Metric, Registry } from 'prom-client';

/** What prom-client's registry reads from a metric at scrape time (and merges across workers). */
export interface HistogramValues {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: ReadonlyArray<{ readonly metricName: string; readonly labels: Readonly<Record<string, string | number>>; readonly value: number }>;
}

export class BucketHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(options: { readonly name: string; readonly help: string; readonly buckets: readonly number[]; readonly registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
    this.#counts = new Float64Array(this.#bounds.length + 1);
    // A custom metric: prom-client calls get() on scrape and aggregation; its Metric type names only its own classes.
    options.registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] ?? Number.POSITIVE_INFINITY)) i++;
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#sum += value;
    this.#count += 1;
  }

  get(): Promise<HistogramValues> {
    const values: HistogramValues['values'][number][] = [];
    let cumulative = 0;
    this.#bounds.forEach((bound, index) => {
      cumulative += this.#counts[index] ?? 0;
      values.push({ metricName: `${this.name}_bucket`, labels: { le: bound }, value: cumulative });
    });
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: this.#count });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.#sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.#count });
    return Promise.resolve({ name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values });
  }

  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }
}
