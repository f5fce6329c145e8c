// Semi-sync, decided: the primary waits for a replica's ack (AFTER_SYNC) whenever at least one
// healthy replica can give it, and stops waiting only when none is left, so writes go on, and
// the manager says so. The wait timeout is set so high that the primary never gives up on its own:
// a hung or cut-off primary then acknowledges nothing, because no replica acknowledges it.
import { primaryOf, replicasOfPrimary } from './derive.js';
import { replicaSeesPrimary } from './freshness.js';
import type { InstanceSnapshot, TopologySnapshot } from './snapshot.js';

/** rpl_semi_sync_master_timeout in ms: ~49.7 days, the largest value MySQL 8 accepts too ("never"). */
export const SEMI_SYNC_TIMEOUT_MS = 4_294_967_295;

export interface SemiSyncDecision {
  /** The primary should wait for acks. */
  wait: boolean;
  /** The replicas that can ack (ids). */
  ackers: string[];
  reason: string;
}

/** A replica that can acknowledge: replica side on, replicating from the primary and still seeing it, not fenced. */
export function canAck(s: TopologySnapshot, r: InstanceSnapshot): boolean {
  return r.reachable && s.quarantined[r.id] === undefined && r.semiSync?.replicaEnabled === true && r.replication?.sqlRunning === true && replicaSeesPrimary(s, r).sees;
}

export function semiSyncDecision(s: TopologySnapshot): SemiSyncDecision {
  const p = primaryOf(s);
  const ackers = replicasOfPrimary(s).filter((r) => canAck(s, r)).map((r) => r.id);
  // The primary's own count: a replica whose IO thread connected before its replica side was on
  // does not ack; waiting for it would stop every write.
  const clients = p?.semiSync?.clients ?? 0;
  if (ackers.length === 0) return { wait: false, ackers, reason: 'no healthy semi-sync replica' };
  if (clients === 0) return { wait: false, ackers, reason: `the primary has no semi-sync client (replicas ${ackers.join(', ')} not connected as semi-sync)` };
  return { wait: true, ackers, reason: `healthy semi-sync replica(s): ${ackers.join(', ')}` };
}

/** What to change on the primary now, or null when it already waits as it should (with the high timeout). */
export function semiSyncChange(s: TopologySnapshot): (SemiSyncDecision & { instanceId: string; waitingNow: boolean; raiseTimeout: boolean }) | null {
  if (!s.policy.semiSync) return null;
  const p = primaryOf(s);
  if (!p?.reachable || p.readOnly !== false || !p.semiSync) return null;
  const d = semiSyncDecision(s);
  const timeoutOk = p.semiSync.timeoutMs === null || p.semiSync.timeoutMs >= SEMI_SYNC_TIMEOUT_MS;
  if (p.semiSync.sourceEnabled === d.wait && (!d.wait || timeoutOk)) return null;
  return { ...d, instanceId: p.id, waitingNow: p.semiSync.sourceEnabled, raiseTimeout: d.wait && !timeoutOk };
}

/**
 * Whether a replica being promoted should wait for acks: only if another replica that will follow it
 * has the replica side on. Waiting with nobody to ack would stop every write until the next round.
 */
export function waitAfterPromotion(s: TopologySnapshot, candidateId: string): boolean {
  return s.instances.some((i) => i.id !== candidateId && i.id !== s.primaryId && i.reachable && i.replication !== null && s.quarantined[i.id] === undefined && i.semiSync?.replicaEnabled === true);
}
