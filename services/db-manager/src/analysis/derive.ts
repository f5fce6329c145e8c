// Facts derived from a snapshot that several problems and the recovery planner share.
import { errantBetween } from '../gtid/positions.js';
import type { InstanceSnapshot, TopologySnapshot } from './snapshot.js';

export function byId(s: TopologySnapshot, id: string | null): InstanceSnapshot | undefined {
  return id === null ? undefined : s.instances.find((i) => i.id === id);
}

export function primaryOf(s: TopologySnapshot): InstanceSnapshot | undefined {
  return byId(s, s.primaryId);
}

/**
 * Which known instance a replica replicates from. The configured address wins; the source's
 * server_id is the fallback so that a manager reaching the primary through another address
 * (a relay, a Service name) still recognises it.
 */
export function sourceOf(s: TopologySnapshot, inst: InstanceSnapshot): InstanceSnapshot | undefined {
  const r = inst.replication;
  if (!r) return undefined;
  const byAddr = s.instances.find((i) => i.id !== inst.id && i.host === r.sourceHost && i.port === r.sourcePort);
  if (byAddr) return byAddr;
  if (r.sourceServerId === null) return undefined;
  return s.instances.find((i) => i.id !== inst.id && i.serverId !== null && i.serverId === r.sourceServerId);
}

export function replicatesFrom(s: TopologySnapshot, inst: InstanceSnapshot, sourceId: string): boolean {
  return sourceOf(s, inst)?.id === sourceId;
}

/** Replicas of the current primary (configured to replicate from it), reachable or not. */
export function replicasOfPrimary(s: TopologySnapshot): InstanceSnapshot[] {
  if (s.primaryId === null) return [];
  return s.instances.filter((i) => i.id !== s.primaryId && i.replication !== null && replicatesFrom(s, i, s.primaryId!));
}

/** Errant GTIDs of an instance compared with the primary's binlog state ([] when unknown). */
export function errantOf(s: TopologySnapshot, inst: InstanceSnapshot): string[] {
  const p = primaryOf(s);
  if (!p || !p.reachable || p.id === inst.id || !inst.reachable) return [];
  return errantBetween(inst.gtidBinlogState, p.gtidBinlogState, p.serverId);
}

/**
 * Replica lag in seconds from the heartbeat row the manager writes on the primary: the primary's
 * latest heartbeat minus the one the replica has applied (both in the manager's clock, so server
 * clocks do not matter). With the primary gone, it is measured against the most advanced replica.
 * Falls back to Seconds_Behind_Master when there is no heartbeat yet.
 */
export function lagSeconds(s: TopologySnapshot, inst: InstanceSnapshot): number | null {
  if (inst.id === s.primaryId) return 0;
  if (!inst.reachable) return null;
  const p = primaryOf(s);
  const ref = p?.reachable && p.heartbeatTs !== null ? p.heartbeatTs : maxHeartbeat(s);
  if (inst.heartbeatTs !== null && ref !== null) return Math.max(0, (ref - inst.heartbeatTs) / 1000);
  return inst.replication?.secondsBehindSource ?? null;
}

function maxHeartbeat(s: TopologySnapshot): number | null {
  let m: number | null = null;
  for (const i of s.instances) if (i.reachable && i.heartbeatTs !== null && (m === null || i.heartbeatTs > m)) m = i.heartbeatTs;
  return m;
}

export function replicationBroken(inst: InstanceSnapshot): boolean {
  const r = inst.replication;
  return r !== null && ((!r.sqlRunning && r.lastSqlErrno !== 0) || (r.ioRunning === 'No' && r.lastIoErrno !== 0));
}

export function replicationStopped(inst: InstanceSnapshot): boolean {
  const r = inst.replication;
  return r !== null && !replicationBroken(inst) && (!r.sqlRunning || r.ioRunning === 'No');
}

/** The primary counts as dead to the manager after N failed probes spanning at least T. */
export function primaryDeadToManager(s: TopologySnapshot): boolean {
  const p = primaryOf(s);
  if (!p || p.reachable) return false;
  return p.consecutiveFailures >= s.policy.failoverAfterProbes && p.firstFailureAt !== null && s.now - p.firstFailureAt >= s.policy.failoverMinMs;
}
