// The cache's Prometheus metrics, created once per registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export type CacheResult = 'HIT' | 'MISS' | 'STALE' | 'BYPASS';

export interface CacheMetrics {
  requests: Counter<'result'>;
  bytes: Gauge;
  entries: Gauge;
  evictions: Counter;
  purged: Counter<'by'>;
}

export function createCacheMetrics(registry: Registry): CacheMetrics {
  return {
    requests: new Counter({
      name: 'dramble_balancer_cache_requests_total',
      help: 'Requests seen by the edge cache by result (HIT, MISS, STALE, BYPASS)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    bytes: new Gauge({ name: 'dramble_balancer_cache_bytes', help: 'Bytes held by the edge cache (bodies, headers, bookkeeping)', registers: [registry] }),
    entries: new Gauge({ name: 'dramble_balancer_cache_entries', help: 'Entries held by the edge cache', registers: [registry] }),
    evictions: new Counter({ name: 'dramble_balancer_cache_evictions_total', help: 'Entries evicted to stay within the memory budget', registers: [registry] }),
    purged: new Counter({
      name: 'dramble_balancer_cache_purged_entries_total',
      help: 'Entries removed by purge requests, by kind of match (url, prefix, tag)',
      labelNames: ['by'] as const,
      registers: [registry],
    }),
  };
}
