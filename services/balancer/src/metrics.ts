// The balancer's Prometheus metrics (the cache adds its own in src/cache/metrics.ts).
import { Counter, Gauge, type Registry } from 'prom-client';
import { PlainHistogram } from './plain-histogram.js';

export interface BalancerMetrics {
  requests: Counter<'code' | 'backend'>;
  /** Per-request counts for `requests`, kept as plain numbers and added to the counter at scrape time. */
  requestTally: RequestTally;
  /** Labelled by backend; observed once per request, so counted in plain numbers (plain-histogram.ts). */
  duration: PlainHistogram;
  inFlight: Gauge;
  backendInFlight: Gauge<'backend'>;
  retries: Counter<'reason'>;
  retriesDenied: Counter;
  ejections: Counter<'backend'>;
  backendHealth: Gauge<'backend' | 'state'>;
  backendErrors: Counter<'backend' | 'kind'>;
  rejected: Counter<'reason'>;
  /** A picked backend had its connections and queue full, so another one was tried. */
  queueFull: Counter<'backend'>;
  /** Requests answered 503 at once because every backend's connections and queue were full. */
  queueRefusals: Counter;
  panic: Gauge;
}

/** Gauges read at scrape time from the live state instead of being updated on every request. */
export interface MetricSources {
  inFlight(): number;
  backendInFlight(): Iterable<{ name: string; inFlight: number }>;
  /** Below the panic threshold (balancing over every backend, healthy or not). */
  panic(): boolean;
}

/**
 * Answered requests by status class and backend, counted in plain numbers: prom-client's inc()
 * hashes the labels and builds a result object on every call (~0.3 us, measurable at tens of
 * thousands of requests per second), so the counter gets the sums when it is scraped (its
 * collect hook) instead.
 */
export class RequestTally {
  private readonly byCode = new Map<string, Map<string, { n: number }>>();

  /** The slot to count one (code, backend) pair in; keep it, then `slot.n++` per request. */
  slot(code: string, backend: string): { n: number } {
    let byBackend = this.byCode.get(code);
    if (!byBackend) this.byCode.set(code, (byBackend = new Map()));
    let s = byBackend.get(backend);
    if (!s) byBackend.set(backend, (s = { n: 0 }));
    return s;
  }

  /** Adds what was counted since the last flush to the counter. */
  flush(counter: Counter<'code' | 'backend'>): void {
    for (const [code, byBackend] of this.byCode) {
      for (const [backend, s] of byBackend) {
        if (s.n === 0) continue;
        counter.inc({ code, backend }, s.n);
        s.n = 0;
      }
    }
  }
}

export function createBalancerMetrics(registry: Registry, sources: MetricSources): BalancerMetrics {
  const registers = [registry];
  const requestTally = new RequestTally();
  return {
    requests: new Counter({
      name: 'dramble_balancer_requests_total',
      help: 'Requests answered, by status class (2xx..5xx) and backend ("-" = answered by the balancer itself)',
      labelNames: ['code', 'backend'] as const,
      registers,
      collect() {
        requestTally.flush(this);
      },
    }),
    requestTally,
    duration: new PlainHistogram({
      name: 'dramble_balancer_request_duration_seconds',
      help: 'Time from request start to the last response byte',
      labelName: 'backend',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    inFlight: new Gauge({
      name: 'dramble_balancer_in_flight_requests',
      help: 'Requests being answered now',
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    }),
    backendInFlight: new Gauge({
      name: 'dramble_balancer_backend_in_flight_requests',
      help: 'Requests in flight per backend',
      labelNames: ['backend'] as const,
      registers,
      collect() {
        this.reset();
        for (const b of sources.backendInFlight()) this.set({ backend: b.name }, b.inFlight);
      },
    }),
    retries: new Counter({ name: 'dramble_balancer_retries_total', help: 'Requests retried on another backend, by reason', labelNames: ['reason'] as const, registers }),
    retriesDenied: new Counter({ name: 'dramble_balancer_retries_denied_total', help: 'Retries not made because the retry budget was spent', registers }),
    ejections: new Counter({ name: 'dramble_balancer_ejections_total', help: 'Passive ejections of a backend', labelNames: ['backend'] as const, registers }),
    backendHealth: new Gauge({ name: 'dramble_balancer_backend_health', help: '1 for the current health state of each backend (healthy, down, ejected, half-open)', labelNames: ['backend', 'state'] as const, registers }),
    backendErrors: new Counter({ name: 'dramble_balancer_backend_errors_total', help: 'Failed backend attempts by kind (connect, timeout, protocol, status: a --fail-status answer)', labelNames: ['backend', 'kind'] as const, registers }),
    rejected: new Counter({ name: 'dramble_balancer_rejected_requests_total', help: 'Requests refused before forwarding (bad framing, too large, ...)', labelNames: ['reason'] as const, registers }),
    queueFull: new Counter({ name: 'dramble_balancer_backend_queue_full_total', help: 'Picks that found the backend\'s connections and queue full and went to another backend', labelNames: ['backend'] as const, registers }),
    queueRefusals: new Counter({ name: 'dramble_balancer_queue_refusals_total', help: 'Requests answered 503 at once because every backend\'s connections and queue were full', registers }),
    panic: new Gauge({
      name: 'dramble_balancer_panic',
      help: '1 while fewer than --panic-threshold-percent of backends are healthy and requests are balanced over all of them',
      registers,
      collect() {
        this.set(sources.panic() ? 1 : 0);
      },
    }),
  };
}

const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export function statusClass(status: number): string {
  return CLASSES[Math.floor(status / 100)] ?? `${Math.floor(status / 100)}xx`;
}
