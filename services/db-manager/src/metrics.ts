// Prometheus metrics of the manager: per instance up/role/lag/errant, failover and switchover counts
// and the duration of the last of each. The per-instance gauges are filled from the manager's view when
// /metrics is scraped, not on every probe: setting 24 labelled values each second made short-lived
// objects that the 1 MB young generation promoted, and the old generation grew ~1 MB a minute until
// the next full GC.
import { Counter, Gauge, type Registry } from 'prom-client';

export const ROLES = ['primary', 'replica', 'fenced', 'standalone', 'down'] as const;
export type Role = (typeof ROLES)[number];

export interface ManagerMetrics {
  up: Gauge<'instance'>;
  role: Gauge<'instance' | 'role'>;
  lag: Gauge<'instance'>;
  errant: Gauge<'instance'>;
  failovers: Counter;
  switchovers: Counter;
  lastFailoverSeconds: Gauge;
  lastSwitchoverSeconds: Gauge;
  leader: Gauge;
  /** 1 while the primary waits for semi-sync acks (as last set or seen by the manager). */
  semiSyncWaiting: Gauge;
  semiSyncChanges: Counter<'waiting'>;
}

/** What the per-instance gauges show, read at scrape time. */
export interface InstanceMetricsView {
  id: string;
  reachable: boolean;
  role: Role;
  lagSeconds: number | null;
  errantGtids: readonly string[];
}

export interface MetricsSource {
  instances(): readonly InstanceMetricsView[];
  isLeader(): boolean;
}

export function createMetrics(registry: Registry, source: MetricsSource): ManagerMetrics {
  const instances = (): readonly InstanceMetricsView[] => source.instances();
  const r = [registry];
  return {
    up: new Gauge({
      name: 'dramble_db_instance_up', help: '1 when the last probe of the instance succeeded', labelNames: ['instance'], registers: r,
      collect() {
        this.reset(); // an instance that left (Kubernetes membership) leaves the metrics too
        for (const i of instances()) this.set({ instance: i.id }, i.reachable ? 1 : 0);
      },
    }),
    role: new Gauge({
      name: 'dramble_db_instance_role', help: '1 for the role the instance has now', labelNames: ['instance', 'role'], registers: r,
      collect() {
        this.reset(); // an instance that left (Kubernetes membership) leaves the metrics too
        for (const i of instances()) for (const role of ROLES) this.set({ instance: i.id, role }, role === i.role ? 1 : 0);
      },
    }),
    lag: new Gauge({
      name: 'dramble_db_instance_lag_seconds', help: 'replication lag from the manager heartbeat', labelNames: ['instance'], registers: r,
      collect() {
        this.reset(); // an instance that left (Kubernetes membership) leaves the metrics too
        for (const i of instances()) if (i.lagSeconds !== null) this.set({ instance: i.id }, i.lagSeconds);
      },
    }),
    errant: new Gauge({
      name: 'dramble_db_instance_errant_gtids', help: 'number of errant GTIDs (domain-server pairs) the instance holds', labelNames: ['instance'], registers: r,
      collect() {
        this.reset(); // an instance that left (Kubernetes membership) leaves the metrics too
        for (const i of instances()) this.set({ instance: i.id }, i.errantGtids.length);
      },
    }),
    failovers: new Counter({ name: 'dramble_db_failovers_total', help: 'automatic failovers completed', registers: r }),
    switchovers: new Counter({ name: 'dramble_db_switchovers_total', help: 'switchovers completed', registers: r }),
    lastFailoverSeconds: new Gauge({ name: 'dramble_db_last_failover_duration_seconds', help: 'duration of the last failover (promotion and repointing)', registers: r }),
    lastSwitchoverSeconds: new Gauge({ name: 'dramble_db_last_switchover_duration_seconds', help: 'duration of the last switchover', registers: r }),
    semiSyncWaiting: new Gauge({ name: 'dramble_db_semi_sync_waiting', help: '1 while the primary waits for a replica ack before acknowledging a commit (semi-sync on)', registers: r }),
    semiSyncChanges: new Counter({ name: 'dramble_db_semi_sync_changes_total', help: 'times the manager switched semi-sync waiting on the primary, by new state', labelNames: ['waiting'], registers: r }),
    leader: new Gauge({
      name: 'dramble_db_is_leader', help: '1 when this manager is the one that acts', registers: r,
      collect() {
        this.set(source.isLeader() ? 1 : 0);
      },
    }),
  };
}
