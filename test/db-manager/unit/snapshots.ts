// Builders of topology snapshots for the pure analysis tests: a healthy primary db1 with replicas
// db2 and db3, which each test then breaks in one way.
import type { InstanceSnapshot, TopologySnapshot } from '../../../services/db-manager/src/analysis/snapshot.js';
import type { ReplicationStatus } from '../../../services/db-manager/src/flavor/types.js';

export const NOW = 1_000_000;

export function replication(sourceHost: string, sourceServerId: number, over: Partial<ReplicationStatus> = {}): ReplicationStatus {
  return {
    sourceHost, sourcePort: 3306, sourceServerId, ioRunning: 'Yes', sqlRunning: true, lastIoErrno: 0, lastIoError: '', lastSqlErrno: 0, lastSqlError: '',
    secondsBehindSource: 0, gtidIoPos: '0-1-100', usingGtid: true, ...over,
  };
}

export function instance(n: number, over: Partial<InstanceSnapshot> = {}): InstanceSnapshot {
  return {
    id: `db${n}:3306`, host: `db${n}`, port: 3306, priority: n - 1, reachable: true, consecutiveFailures: 0, firstFailureAt: null, lastError: null,
    serverId: n, readOnly: n !== 1, version: '10.11.6-MariaDB',
    gtidBinlogPos: '0-1-100', gtidCurrentPos: '0-1-100', gtidSlavePos: n === 1 ? '' : '0-1-100', gtidBinlogState: '0-1-100',
    replication: n === 1 ? null : replication('db1', 1), heartbeatTs: NOW - 500, semiSync: null, receive: null, replicaNetTimeoutSeconds: null, receivedAt: n === 1 ? null : NOW - 500, probedAt: NOW, ...over,
  };
}

export function dead(i: InstanceSnapshot, failures = 3, sinceMs = 2500): InstanceSnapshot {
  return { ...i, reachable: false, consecutiveFailures: failures, firstFailureAt: NOW - sinceMs, lastError: 'connect ECONNREFUSED', serverId: i.serverId, readOnly: null, replication: null, heartbeatTs: null };
}

/** The replicas lost the primary: IO thread reconnecting. */
export function lostPrimary(i: InstanceSnapshot, ioPos = '0-1-100'): InstanceSnapshot {
  return { ...i, replication: { ...i.replication!, ioRunning: 'Connecting', lastIoErrno: 2003, lastIoError: 'error reconnecting to master', gtidIoPos: ioPos } };
}

export function snapshot(instances: InstanceSnapshot[], over: Partial<TopologySnapshot> = {}): TopologySnapshot {
  return {
    now: NOW, primaryId: 'db1:3306', instances, quarantined: {}, knownErrant: {}, lastFailoverAt: null, replicationRestarts: {},
    policy: { failoverAfterProbes: 3, failoverMinMs: 1500, failoverCooldownMs: 60_000, maxPromotionLagSeconds: 30, laggingReplicaSeconds: 10, autoRejoin: true, replicaSilenceMs: 2000, semiSync: false },
    ...over,
  };
}

export const healthy = (): InstanceSnapshot[] => [instance(1), instance(2), instance(3)];
