// Choosing the replica to promote: the most advanced healthy one (received-GTID superset), ties
// broken by configured priority; never one with a broken SQL thread, errant GTIDs or too much lag.
import { compareGtidText } from '../gtid/positions.js';
import { lagSeconds, replicatesFrom } from './derive.js';
import type { InstanceSnapshot, TopologySnapshot } from './snapshot.js';

export interface CandidateChoice {
  candidate: InstanceSnapshot | undefined;
  rejected: Array<{ id: string; reason: string }>;
}

/** GTIDs the replica has received (relay log included): what it will hold once it has applied its relay log. */
export function receivedPosition(inst: InstanceSnapshot): string {
  const io = inst.replication?.gtidIoPos ?? '';
  return io !== '' ? io : inst.gtidCurrentPos;
}

export function chooseCandidate(s: TopologySnapshot, errant: Record<string, string[]>, opts: { target?: string; requireReplicaOf?: string | null } = {}): CandidateChoice {
  const rejected: Array<{ id: string; reason: string }> = [];
  const ok: InstanceSnapshot[] = [];
  const sourceId = opts.requireReplicaOf === undefined ? s.primaryId : opts.requireReplicaOf;
  for (const i of s.instances) {
    if (i.id === s.primaryId) continue;
    if (opts.target !== undefined && i.id !== opts.target) continue;
    const reason = ineligible(s, i, errant, sourceId);
    if (reason) rejected.push({ id: i.id, reason });
    else ok.push(i);
  }
  ok.sort((a, b) => -compareGtidText(receivedPosition(a), receivedPosition(b)) || a.priority - b.priority || a.id.localeCompare(b.id));
  return { candidate: ok[0], rejected };
}

function ineligible(s: TopologySnapshot, i: InstanceSnapshot, errant: Record<string, string[]>, sourceId: string | null): string | undefined {
  if (!i.reachable) return 'unreachable';
  if (s.quarantined[i.id] !== undefined) return `quarantined: ${s.quarantined[i.id]}`;
  const r = i.replication;
  if (!r) return 'not a replica';
  if (sourceId !== null && !replicatesFrom(s, i, sourceId)) return 'does not replicate from the primary';
  if (r.lastSqlErrno !== 0) return `SQL thread broken (${r.lastSqlErrno}: ${r.lastSqlError})`;
  const e = errant[i.id] ?? [];
  if (e.length > 0) return `errant GTIDs ${e.join(',')}`;
  const lag = lagSeconds(s, i);
  if (lag !== null && lag > s.policy.maxPromotionLagSeconds) return `lag ${lag.toFixed(1)} s exceeds ${s.policy.maxPromotionLagSeconds} s`;
  return undefined;
}
