// The app's Prometheus metrics: request latency by route, page cache hits, reads by target,
// replica lag as seen by this instance, pool usage, topology epoch, refused writes by reason.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Database } from './db/database.js';
import { WRITE_REFUSAL_REASONS } from './db/write-refusal.js';

export interface AppMetrics {
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  pageCache: Counter<'result'>;
  dbReads: Counter<'target'>;
  replicaLag: Gauge<'replica'>;
  topologyMessages: Counter<'result'>;
  writesRefused: Counter<'reason'>;
}

export function createAppMetrics(registry: Registry, db: () => Database | undefined): AppMetrics {
  const pageCache = new Counter({ name: 'dramble_app_page_cache_total', help: 'Anonymous page lookups in the Redis page cache, by result', labelNames: ['result'] as const, registers: [registry] });
  new Gauge({
    name: 'dramble_app_page_cache_hit_ratio',
    help: 'Share of anonymous page lookups answered from the Redis page cache since start',
    registers: [registry],
    async collect() {
      const m = await pageCache.get();
      const hit = m.values.find((v) => v.labels.result === 'hit')?.value ?? 0;
      const miss = m.values.find((v) => v.labels.result === 'miss')?.value ?? 0;
      this.set(hit + miss === 0 ? 0 : hit / (hit + miss));
    },
  });
  new Gauge({
    name: 'dramble_app_db_pool_connections',
    help: 'MySQL pool connections by pool and state',
    labelNames: ['pool', 'role', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const p of db()?.poolStats() ?? []) {
        this.set({ pool: p.pool, role: p.role, state: 'used' }, p.used);
        this.set({ pool: p.pool, role: p.role, state: 'idle' }, p.idle);
      }
    },
  });
  new Gauge({
    name: 'dramble_app_topology_epoch',
    help: 'Epoch of the MySQL topology this instance follows (-1: configured, none published yet)',
    registers: [registry],
    collect() {
      this.set(db()?.topology.epoch ?? -1);
    },
  });
  const writesRefused = new Counter({
    name: 'dramble_app_writes_refused_total',
    help: 'Writes refused (no-primary, redis-silent, timeout) or answered 503 with their COMMIT unanswered (outcome-unknown), by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  // Every reason is exported from the start (at 0), so a rate() over it has a series to work on.
  for (const reason of WRITE_REFUSAL_REASONS) writesRefused.inc({ reason }, 0);
  return {
    writesRefused,
    httpDuration: new Histogram({
      name: 'dramble_app_http_request_duration_seconds',
      help: 'Public requests by route, method and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    pageCache,
    dbReads: new Counter({ name: 'dramble_app_db_reads_total', help: 'Reads by the server that answered them', labelNames: ['target'] as const, registers: [registry] }),
    topologyMessages: new Counter({ name: 'dramble_app_topology_messages_total', help: 'Published topologies read from Redis, by what was done with them', labelNames: ['result'] as const, registers: [registry] }),
    replicaLag: new Gauge({ name: 'dramble_app_replica_lag_seconds', help: 'Replication lag as this instance last saw it (-1: unknown or down)', labelNames: ['replica'] as const, registers: [registry] }),
  };
}
