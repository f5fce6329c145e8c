// Does a replica still see its source? An IO thread says "Yes" for as long as its TCP connection
// is open, which a hung (SIGSTOP, SD-card stall) or cut-off primary keeps open for a long time; so a
// replica counts as seeing the primary only if it has received something recently: the manager's
// heartbeat row applied on it, or any event or replication heartbeat its IO thread counted.
import { primaryOf, replicasOfPrimary } from './derive.js';
import type { InstanceSnapshot, ReceiveStatus, TopologySnapshot } from './snapshot.js';

/** What the probe reads that moves whenever the IO thread receives anything. */
export function receiveSignature(inst: Pick<InstanceSnapshot, 'replication' | 'receive'>): string | null {
  const r = inst.replication;
  if (!r) return null;
  return `${r.sourceHost}:${r.sourcePort}|${r.ioRunning}|${r.gtidIoPos}|${inst.receive?.heartbeats ?? ''}`;
}

/**
 * Manager memory update for one probe: the time the replica was last seen receiving. A changed
 * signature (new GTIDs, another heartbeat, a reconnect) means "received now"; the first sight of a
 * replica gets the benefit of the doubt (now), so a manager that just started does not see every
 * replica as silent.
 */
export function nextReceivedAt(prev: { reachable: boolean; receivedAt: number | null; signature: string | null }, probe: { reachable: boolean; signature: string | null; probedAt: number }): number | null {
  if (!probe.reachable) return prev.receivedAt;
  if (probe.signature === null) return null;
  if (prev.receivedAt === null || prev.signature !== probe.signature) return probe.probedAt;
  return prev.receivedAt;
}

/** Silence can only be judged when the source is asked to send heartbeats often enough. */
export function heartbeatsShortEnough(receive: ReceiveStatus | null, silenceMs: number): boolean {
  const p = receive?.heartbeatPeriodSeconds;
  return p !== null && p !== undefined && p > 0 && p * 1000 * 2 <= silenceMs;
}

export interface ReplicaView {
  sees: boolean;
  /** Why, for problem details and events. */
  reason: string;
}

/**
 * Whether a reachable replica still sees the primary: IO thread connected and either the manager's
 * heartbeat row it applied or its last received event is younger than policy.replicaSilenceMs.
 * With a heartbeat period too long to tell silence from an idle primary, the IO thread's word is
 * taken (the old rule), which never fails over on a false alarm.
 */
export function replicaSeesPrimary(s: TopologySnapshot, r: InstanceSnapshot): ReplicaView {
  const rep = r.replication;
  if (!r.reachable) return { sees: false, reason: 'unreachable' };
  if (!rep || rep.ioRunning !== 'Yes') return { sees: false, reason: `IO thread ${rep?.ioRunning ?? 'not configured'}` };
  const silence = s.policy.replicaSilenceMs;
  const rowAge = r.heartbeatTs === null ? null : s.now - r.heartbeatTs;
  if (rowAge !== null && rowAge <= silence) return { sees: true, reason: `heartbeat row ${ms(rowAge)} old` };
  const recvAge = r.receivedAt === null ? null : s.now - r.receivedAt;
  if (recvAge !== null && recvAge <= silence) return { sees: true, reason: `received ${ms(recvAge)} ago` };
  if (!heartbeatsShortEnough(r.receive, silence)) return { sees: true, reason: `IO thread Yes (heartbeat period ${r.receive?.heartbeatPeriodSeconds ?? '?'} s too long to judge silence)` };
  return { sees: false, reason: `IO thread Yes but nothing received for ${recvAge === null ? '?' : ms(recvAge)}` };
}

/** Reachable replicas of the primary that still see it, with the reason each does. */
export function replicasSeeingPrimary(s: TopologySnapshot): Array<{ inst: InstanceSnapshot; reason: string }> {
  if (!primaryOf(s)) return [];
  return replicasOfPrimary(s)
    .filter((r) => r.reachable)
    .map((inst) => ({ inst, ...replicaSeesPrimary(s, inst) }))
    .filter((v) => v.sees)
    .map(({ inst, reason }) => ({ inst, reason }));
}

function ms(v: number): string {
  return `${(Math.max(0, v) / 1000).toFixed(1)} s`;
}
