// Replica settings the manager owns and a restart loses: slave_net_timeout is set with SET GLOBAL
// (bootstrap, rejoin), so a restarted replica is back at the 60 s default and notices a dead
// source a minute late; the heartbeat period lives in master.info but RESET SLAVE or a CHANGE
// MASTER by hand can lose it. Pure: which settings of one replica drifted and to what.
import { heartbeatsShortEnough } from './freshness.js';
import type { InstanceSnapshot } from './snapshot.js';

/** A replica's IO thread reconnects after this much silence from its source. */
export const REPLICA_NET_TIMEOUT_SECONDS = 4;
/**
 * The source sends a heartbeat event after this much idle time, so a replica that received nothing
 * for two periods has lost it (analysis/freshness.ts), long before slave_net_timeout says so.
 */
export const HEARTBEAT_PERIOD_SECONDS = 1;

export interface ReplicaDrift {
  /** Set slave_net_timeout to this (null: it is right or unknown). */
  netTimeoutSeconds: number | null;
  /** Set MASTER_HEARTBEAT_PERIOD to this (null: short enough or unknown). */
  heartbeatPeriodSeconds: number | null;
  /** What was found, for the problem's detail. */
  found: string[];
}

/** The drifted settings of a replica, or null when nothing needs repair. */
export function replicaDrift(inst: Pick<InstanceSnapshot, 'replication' | 'receive' | 'replicaNetTimeoutSeconds'>, replicaSilenceMs: number): ReplicaDrift | null {
  if (inst.replication === null) return null;
  const found: string[] = [];
  const net = inst.replicaNetTimeoutSeconds;
  const netWrong = net !== null && net !== REPLICA_NET_TIMEOUT_SECONDS;
  if (netWrong) found.push(`net timeout ${net} s (want ${REPLICA_NET_TIMEOUT_SECONDS} s)`);
  // The status figure is only trusted from a connected IO thread; with a period too long to judge
  // silence, a hung source would look alive (analysis/freshness.ts).
  const period = inst.receive?.heartbeatPeriodSeconds;
  const hbWrong = inst.replication.ioRunning === 'Yes' && period !== null && period !== undefined && !heartbeatsShortEnough(inst.receive, replicaSilenceMs);
  if (hbWrong) found.push(`heartbeat period ${period} s (want ${HEARTBEAT_PERIOD_SECONDS} s)`);
  if (!netWrong && !hbWrong) return null;
  return { netTimeoutSeconds: netWrong ? REPLICA_NET_TIMEOUT_SECONDS : null, heartbeatPeriodSeconds: hbWrong ? HEARTBEAT_PERIOD_SECONDS : null, found };
}
