// A Prometheus histogram with one label, counted in plain numbers, for a per-request observation.
// prom-client's Histogram.observe builds a label object, validates it, hashes it into a string and
// reads and writes its bucket counts through number-keyed properties (a number-to-string
// conversion on each access) on every call: about 7,000 instructions per observation, measured
// under callgrind, 4 % of the balancer's instructions per proxied request. A child here keeps
// its counts in an array (one bucket search, three additions). The registry gets, at scrape time,
// the series prom-client's Histogram would give (_bucket with `le`, _sum, _count; summed across
// cluster workers), so /metrics reads the same.
import type { Registry } from 'prom-client';

/** The counts of one label value; keep it, then observe() per request. */
export class HistogramChild {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

export interface PlainHistogramOptions {
  name: string;
  help: string;
  labelName: string;
  /** Upper bounds, ascending (prom-client's `buckets`). */
  buckets: readonly number[];
  registers: Registry[];
}

/** One exported sample, in the shape prom-client's own metrics give the registry. */
export interface HistogramSample {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

export class PlainHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  /** How the cluster's primary combines the workers' series (as prom-client's Histogram). */
  readonly aggregator = 'sum';
  private readonly labelName: string;
  private readonly bounds: readonly number[];
  private readonly children = new Map<string, HistogramChild>();

  constructor(options: PlainHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.labelName = options.labelName;
    this.bounds = [...options.buckets];
    // The registry asks every metric for get() (and reset()); it needs no more of prom-client's classes.
    for (const r of options.registers) r.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The child for a label value (created once). */
  labels(value: string): HistogramChild {
    let child = this.children.get(value);
    if (!child) this.children.set(value, (child = new HistogramChild(this.bounds)));
    return child;
  }

  /** Zeroes the counts; children already handed out keep counting. */
  reset(): void {
    for (const child of this.children.values()) child.reset();
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: HistogramSample[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.samples() });
  }

  samples(): HistogramSample[] {
    const { name, labelName, bounds } = this;
    const values: HistogramSample[] = [];
    for (const [label, child] of this.children) {
      let acc = 0;
      for (let i = 0; i < bounds.length; i++) {
        acc += child.counts[i]!;
        values.push({ labels: { le: bounds[i]!, [labelName]: label }, value: acc, metricName: `${name}_bucket` });
      }
      values.push(
        { labels: { le: '+Inf', [labelName]: label }, value: child.count, metricName: `${name}_bucket` },
        { labels: { [labelName]: label }, value: child.sum, metricName: `${name}_sum` },
        { labels: { [labelName]: label }, value: child.count, metricName: `${name}_count` },
      );
    }
    return values;
  }
}
