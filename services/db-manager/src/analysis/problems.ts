// Every problem the manager can notice, as one table (after Vitess VTOrc's analysis_problem.go):
// a code, a one-line description, a priority (highest wins), whether it blocks lower-priority
// actions, and a match function over an analysed snapshot that returns the instances it affects
// and what to do about each. Reading this file tells you everything the manager reacts to.
import { chooseCandidate } from './candidate.js';
import { byId, errantOf, lagSeconds, primaryDeadToManager, primaryOf, replicasOfPrimary, replicationBroken, replicationStopped, sourceOf } from './derive.js';
import { replicasSeeingPrimary } from './freshness.js';
import { restartableIoStop, restartWaitMs } from './io-errors.js';
import { noPlan, type Plan } from './plan.js';
import { replicaDrift, type ReplicaDrift } from './replica-drift.js';
import { semiSyncChange } from './semi-sync.js';
import type { InstanceSnapshot, TopologySnapshot } from './snapshot.js';

export type ProblemCode =
  | 'FencedInstanceWritable'
  | 'DeadPrimary'
  | 'DeadPrimaryAndSomeReplicas'
  | 'DeadPrimaryAndReplicas'
  | 'PrimaryUnreachableFromManager'
  | 'PrimarySuspect'
  | 'NoPrimary'
  | 'SplitBrain'
  | 'ReplicaIsWritable'
  | 'PrimaryIsReadOnly'
  | 'ErrantGtids'
  | 'ReplicationBroken'
  | 'ReplicaIoInterrupted'
  | 'ReplicaWrongPrimary'
  | 'InstanceNotReplicating'
  | 'SemiSyncMismatch'
  | 'ReplicaSemiSyncOff'
  | 'ReplicaSettingsDrift'
  | 'ReplicaStopped'
  | 'ReplicaLagging'
  | 'InstanceUnreachable';

/** The snapshot plus facts computed once for every problem. */
export interface AnalysisContext {
  s: TopologySnapshot;
  primary: InstanceSnapshot | undefined;
  /** Errant GTIDs per instance: fresh when the primary answered, remembered otherwise. */
  errant: Record<string, string[]>;
}

export interface ProblemMatch {
  instanceId: string | null;
  detail: string;
  plan: Plan;
}

export interface Problem {
  code: ProblemCode;
  description: string;
  priority: number;
  /** While it matches, nothing of lower priority is acted on (e.g. no repointing while the primary is in doubt). */
  blocking?: boolean;
  matches(ctx: AnalysisContext): ProblemMatch[];
}

const others = (ctx: AnalysisContext): InstanceSnapshot[] => ctx.s.instances.filter((i) => i.id !== ctx.s.primaryId && i.reachable);

function deadPrimary(ctx: AnalysisContext): { reachable: InstanceSnapshot[]; unreachable: InstanceSnapshot[] } | undefined {
  if (!primaryDeadToManager(ctx.s)) return undefined;
  const replicas = replicasOfPrimary(ctx.s);
  const reachable = replicas.filter((r) => r.reachable);
  // No false alarms: the primary is dead only if every replica that can be asked has lost it too
  // (received nothing recently: an IO thread that still says Yes can be talking to a hung host).
  if (replicasSeeingPrimary(ctx.s).length > 0) return undefined;
  return { reachable, unreachable: replicas.filter((r) => !r.reachable) };
}

function failoverPlan(ctx: AnalysisContext): Plan {
  const { s } = ctx;
  if (s.lastFailoverAt !== null && s.now - s.lastFailoverAt < s.policy.failoverCooldownMs) {
    return noPlan(`in failover cooldown (${s.policy.failoverCooldownMs} ms after the last failover)`);
  }
  const { candidate, rejected } = chooseCandidate(s, ctx.errant);
  if (!candidate) return noPlan(`no replica can be promoted: ${rejected.map((r) => `${r.id} ${r.reason}`).join('; ') || 'none configured'}`);
  return { action: 'failover', candidateId: candidate.id };
}

export const PROBLEMS: Problem[] = [
  {
    code: 'FencedInstanceWritable',
    description: 'A fenced instance (an old primary waking up after a failover) accepts writes: make it read-only and cut its clients before anything else.',
    priority: 110,
    matches(ctx) {
      return ctx.s.instances
        .filter((i) => i.id !== ctx.s.primaryId && i.reachable && i.readOnly === false && ctx.s.quarantined[i.id] !== undefined)
        .map((i) => ({ instanceId: i.id, detail: `writable while fenced (${ctx.s.quarantined[i.id]})`, plan: { action: 'fence', instanceId: i.id } as Plan }));
    },
  },
  {
    code: 'DeadPrimary',
    description: 'The primary failed every probe for long enough and every replica has lost it too: fail over.',
    priority: 100,
    blocking: true,
    matches(ctx) {
      const d = deadPrimary(ctx);
      if (!d || d.reachable.length === 0 || d.unreachable.length > 0) return [];
      return [{ instanceId: ctx.s.primaryId, detail: `${ctx.primary?.lastError ?? 'unreachable'}; replicas lost it too`, plan: failoverPlan(ctx) }];
    },
  },
  {
    code: 'DeadPrimaryAndSomeReplicas',
    description: 'The primary and some replicas are dead; the reachable replicas have lost the primary: fail over to one of them.',
    priority: 99,
    blocking: true,
    matches(ctx) {
      const d = deadPrimary(ctx);
      if (!d || d.reachable.length === 0 || d.unreachable.length === 0) return [];
      return [{ instanceId: ctx.s.primaryId, detail: `also unreachable: ${d.unreachable.map((r) => r.id).join(', ')}`, plan: failoverPlan(ctx) }];
    },
  },
  {
    code: 'DeadPrimaryAndReplicas',
    description: 'The primary and every replica are unreachable: nothing can be promoted.',
    priority: 98,
    blocking: true,
    matches(ctx) {
      const d = deadPrimary(ctx);
      if (!d || d.reachable.length > 0) return [];
      return [{ instanceId: ctx.s.primaryId, detail: 'no replica answers', plan: noPlan('no reachable replica') }];
    },
  },
  {
    code: 'PrimaryUnreachableFromManager',
    description: 'The manager cannot reach the primary but a replica still replicates from it: no failover (network between manager and primary).',
    priority: 97,
    blocking: true,
    matches(ctx) {
      const p = ctx.primary;
      if (!p || p.reachable) return [];
      const seeing = replicasSeeingPrimary(ctx.s);
      if (seeing.length === 0) return [];
      return [{ instanceId: p.id, detail: `still replicating from it: ${seeing.map((r) => `${r.inst.id} (${r.reason})`).join(', ')}`, plan: noPlan('replicas still see the primary') }];
    },
  },
  {
    code: 'PrimarySuspect',
    description: 'The primary failed a probe; waiting for enough failed probes before declaring it dead.',
    priority: 96,
    blocking: true,
    matches(ctx) {
      const p = ctx.primary;
      if (!p || p.reachable || primaryDeadToManager(ctx.s)) return [];
      return [{ instanceId: p.id, detail: `${p.consecutiveFailures} failed probe(s): ${p.lastError ?? ''}`, plan: noPlan('confirming') }];
    },
  },
  {
    code: 'NoPrimary',
    description: 'No primary is known (nothing bootstrapped and no instance is writable with replicas).',
    priority: 95,
    blocking: true,
    matches(ctx) {
      return ctx.s.primaryId === null ? [{ instanceId: null, detail: 'no primary', plan: noPlan('no primary to act on') }] : [];
    },
  },
  {
    code: 'SplitBrain',
    description: 'A second writable instance that does not replicate from the primary (e.g. a returning old primary): fence it.',
    priority: 90,
    matches(ctx) {
      if (!ctx.primary?.reachable) return [];
      return others(ctx)
        .filter((i) => i.readOnly === false && ctx.s.quarantined[i.id] === undefined && (i.replication === null || sourceOf(ctx.s, i)?.id !== ctx.s.primaryId))
        .map((i) => ({ instanceId: i.id, detail: `${i.id} accepts writes beside the primary ${ctx.s.primaryId}`, plan: { action: 'fence', instanceId: i.id } as Plan }));
    },
  },
  {
    code: 'ReplicaIsWritable',
    description: 'A replica of the primary has read_only off: set it read-only.',
    priority: 85,
    matches(ctx) {
      return others(ctx)
        .filter((i) => i.readOnly === false && i.replication !== null && sourceOf(ctx.s, i)?.id === ctx.s.primaryId)
        .map((i) => ({ instanceId: i.id, detail: 'read_only=OFF on a replica', plan: { action: 'setReadOnly', instanceId: i.id } as Plan }));
    },
  },
  {
    code: 'PrimaryIsReadOnly',
    description: 'The primary has read_only on: make it writable.',
    priority: 80,
    matches(ctx) {
      const p = ctx.primary;
      if (!p?.reachable || p.readOnly !== true) return [];
      return [{ instanceId: p.id, detail: 'read_only=ON on the primary', plan: { action: 'setWritable', instanceId: p.id } }];
    },
  },
  {
    code: 'ErrantGtids',
    description: 'An instance has transactions the primary never had: it is fenced and never promoted or re-attached.',
    priority: 75,
    matches(ctx) {
      return others(ctx)
        .filter((i) => (ctx.errant[i.id] ?? []).length > 0)
        .map((i) => {
          const gtids = ctx.errant[i.id]!;
          const done = ctx.s.quarantined[i.id] !== undefined && i.readOnly === true;
          return { instanceId: i.id, detail: `errant GTIDs: ${gtids.join(',')}`, plan: done ? noPlan('fenced') : ({ action: 'quarantine', instanceId: i.id, errantGtids: gtids } as Plan) };
        });
    },
  },
  {
    code: 'ReplicationBroken',
    description: 'A replication thread stopped with an error that is not a network one (SQL thread errors, 1236 binlog missing, access denied): reported, never promoted, needs a person.',
    priority: 70,
    matches(ctx) {
      return others(ctx)
        .filter((i) => replicationBroken(i) && !restartableIoStop(i.replication!))
        .map((i) => {
          const r = i.replication!;
          const detail = r.lastSqlErrno !== 0 ? `SQL thread error ${r.lastSqlErrno}: ${r.lastSqlError}` : `IO thread error ${r.lastIoErrno}: ${r.lastIoError}`;
          return { instanceId: i.id, detail, plan: noPlan('needs a person') };
        });
    },
  },
  {
    code: 'ReplicaIoInterrupted',
    description: 'A replica\'s IO thread stopped on a network error (its source restarted or was unreachable while it reconnected): start replication again, backing off.',
    priority: 69,
    matches(ctx) {
      return others(ctx)
        .filter((i) => i.replication !== null && restartableIoStop(i.replication))
        .map((i) => {
          const r = i.replication!;
          const detail = `IO thread stopped on error ${r.lastIoErrno}: ${r.lastIoError}`;
          const h = ctx.s.replicationRestarts[i.id];
          const wait = restartWaitMs(h, ctx.s.now);
          let plan: Plan = { action: 'restartReplication', instanceId: i.id };
          if (ctx.s.quarantined[i.id] !== undefined) plan = noPlan('fenced');
          else if (sourceOf(ctx.s, i)?.id !== ctx.s.primaryId) plan = noPlan('replicates from another instance than the primary');
          else if (!ctx.primary?.reachable) plan = noPlan('waiting for the primary to answer');
          else if (wait > 0) plan = noPlan(`restarted ${h!.attempts} time(s); next restart in ${(wait / 1000).toFixed(1)} s`);
          return { instanceId: i.id, detail, plan };
        });
    },
  },
  {
    code: 'ReplicaWrongPrimary',
    description: 'A replica replicates from another instance than the primary: repoint it by GTID.',
    priority: 60,
    matches(ctx) {
      if (!ctx.primary?.reachable) return [];
      return others(ctx)
        .filter((i) => i.replication !== null && i.readOnly !== false && sourceOf(ctx.s, i)?.id !== ctx.s.primaryId && (ctx.errant[i.id] ?? []).length === 0)
        .map((i) => ({
          instanceId: i.id,
          detail: `replicates from ${sourceOf(ctx.s, i)?.id ?? `${i.replication!.sourceHost}:${i.replication!.sourcePort}`}`,
          plan: { action: 'rejoin', instanceId: i.id } as Plan,
        }));
    },
  },
  {
    code: 'InstanceNotReplicating',
    description: 'A read-only instance that is neither primary nor replica (e.g. a returning old primary): re-attach it when allowed.',
    priority: 55,
    matches(ctx) {
      if (!ctx.primary?.reachable) return [];
      return others(ctx)
        .filter((i) => i.replication === null && i.readOnly === true && (ctx.errant[i.id] ?? []).length === 0)
        .map((i) => {
          const quarantined = ctx.s.quarantined[i.id];
          const allowed = ctx.s.policy.autoRejoin || quarantined === undefined;
          return {
            instanceId: i.id,
            detail: quarantined ? `fenced (${quarantined})` : 'not replicating',
            plan: allowed ? ({ action: 'rejoin', instanceId: i.id } as Plan) : noPlan('auto-rejoin is off: POST /api/instances/:id/rejoin'),
          };
        });
    },
  },
  {
    code: 'SemiSyncMismatch',
    description: 'The primary waits for semi-sync acks with no healthy replica to give them, or does not wait although one exists: switch waiting.',
    priority: 88,
    matches(ctx) {
      const c = semiSyncChange(ctx.s);
      if (!c) return [];
      const detail = c.waitingNow === c.wait ? `waiting on with a semi-sync timeout the primary can reach (${ctx.primary?.semiSync?.timeoutMs ?? '?'} ms)` : `${c.waitingNow ? 'waiting on' : 'waiting off'} but ${c.reason}`;
      return [{ instanceId: c.instanceId, detail, plan: { action: 'semiSyncWait', instanceId: c.instanceId, on: c.wait, reason: c.raiseTimeout && c.waitingNow ? `timeout raised so it never falls back to async; ${c.reason}` : c.reason } }];
    },
  },
  {
    code: 'ReplicaSemiSyncOff',
    description: 'A replica of the primary has the semi-sync replica side off (e.g. restarted without it): it cannot acknowledge; turn it on.',
    priority: 46,
    matches(ctx) {
      if (!ctx.s.policy.semiSync || !ctx.primary?.reachable) return [];
      return others(ctx)
        .filter((i) => i.semiSync?.replicaEnabled === false && i.replication !== null && sourceOf(ctx.s, i)?.id === ctx.s.primaryId && ctx.s.quarantined[i.id] === undefined)
        .map((i) => ({ instanceId: i.id, detail: 'semi-sync replica side off', plan: { action: 'enableSemiSyncReplica', instanceId: i.id } as Plan }));
    },
  },
  {
    code: 'ReplicaSettingsDrift',
    description: 'A replica lost a replication setting the manager owns (slave_net_timeout after a restart, a long MASTER_HEARTBEAT_PERIOD): set it again and reconnect its IO thread.',
    priority: 45,
    matches(ctx) {
      if (!ctx.primary?.reachable) return [];
      return others(ctx)
        .filter((i) => sourceOf(ctx.s, i)?.id === ctx.s.primaryId && ctx.s.quarantined[i.id] === undefined)
        .map((i) => [i, replicaDrift(i, ctx.s.policy.replicaSilenceMs)] as const)
        .filter((x): x is readonly [InstanceSnapshot, ReplicaDrift] => x[1] !== null)
        .map(([i, d]) => ({ instanceId: i.id, detail: d.found.join('; '), plan: { action: 'repairReplicaSettings', instanceId: i.id, netTimeoutSeconds: d.netTimeoutSeconds, heartbeatPeriodSeconds: d.heartbeatPeriodSeconds } as Plan }));
    },
  },
  {
    code: 'ReplicaStopped',
    description: 'Replication threads stopped without an error: start them.',
    priority: 50,
    matches(ctx) {
      return others(ctx)
        .filter((i) => replicationStopped(i) && sourceOf(ctx.s, i)?.id === ctx.s.primaryId && ctx.s.quarantined[i.id] === undefined)
        .map((i) => ({ instanceId: i.id, detail: `IO ${i.replication!.ioRunning}, SQL ${i.replication!.sqlRunning ? 'Yes' : 'No'}`, plan: { action: 'startReplication', instanceId: i.id } as Plan }));
    },
  },
  {
    code: 'ReplicaLagging',
    description: 'A replica is further behind than the lagging threshold.',
    priority: 40,
    matches(ctx) {
      return others(ctx)
        .map((i) => [i, lagSeconds(ctx.s, i)] as const)
        .filter(([, lag]) => lag !== null && lag > ctx.s.policy.laggingReplicaSeconds)
        .map(([i, lag]) => ({ instanceId: i.id, detail: `${lag!.toFixed(1)} s behind`, plan: noPlan('report only') }));
    },
  },
  {
    code: 'InstanceUnreachable',
    description: 'An instance other than the primary does not answer probes: reported; it cannot be promoted.',
    priority: 30,
    matches(ctx) {
      return ctx.s.instances
        .filter((i) => i.id !== ctx.s.primaryId && !i.reachable && i.consecutiveFailures > 0)
        .map((i) => ({ instanceId: i.id, detail: i.lastError ?? 'unreachable', plan: noPlan('report only') }));
    },
  },
];

export function problemByCode(code: ProblemCode): Problem {
  const p = PROBLEMS.find((x) => x.code === code);
  if (!p) throw new Error(`unknown problem ${code}`);
  return p;
}

/** Fresh errant GTIDs when the primary answers, else what was last known. */
export function errantMap(s: TopologySnapshot): Record<string, string[]> {
  const p = primaryOf(s);
  if (!p?.reachable) return { ...s.knownErrant };
  const out: Record<string, string[]> = {};
  for (const i of s.instances) {
    if (i.id === p.id) continue;
    if (i.reachable) {
      const e = errantOf(s, i);
      if (e.length > 0) out[i.id] = e;
    } else if (s.knownErrant[i.id]) out[i.id] = s.knownErrant[i.id]!;
  }
  return out;
}

export { byId };
