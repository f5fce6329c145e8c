// Prometheus metrics of the manager: per instance up/role/lag/errant, failover and switchover counts
// and the duration of the last of each.
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
}

export function createMetrics(registry: Registry): ManagerMetrics {
  const r = [registry];
  return {
    up: new Gauge({ name: 'dramble_db_instance_up', help: '1 when the last probe of the instance succeeded', labelNames: ['instance'], registers: r }),
    role: new Gauge({ name: 'dramble_db_instance_role', help: '1 for the role the instance has now', labelNames: ['instance', 'role'], registers: r }),
    lag: new Gauge({ name: 'dramble_db_instance_lag_seconds', help: 'replication lag from the manager heartbeat', labelNames: ['instance'], registers: r }),
    errant: new Gauge({ name: 'dramble_db_instance_errant_gtids', help: 'number of errant GTIDs (domain-server pairs) the instance holds', labelNames: ['instance'], registers: r }),
    failovers: new Counter({ name: 'dramble_db_failovers_total', help: 'automatic failovers completed', registers: r }),
    switchovers: new Counter({ name: 'dramble_db_switchovers_total', help: 'switchovers completed', registers: r }),
    lastFailoverSeconds: new Gauge({ name: 'dramble_db_last_failover_duration_seconds', help: 'duration of the last failover (promotion and repointing)', registers: r }),
    lastSwitchoverSeconds: new Gauge({ name: 'dramble_db_last_switchover_duration_seconds', help: 'duration of the last switchover', registers: r }),
    leader: new Gauge({ name: 'dramble_db_is_leader', help: '1 when this manager is the one that acts', registers: r }),
  };
}
