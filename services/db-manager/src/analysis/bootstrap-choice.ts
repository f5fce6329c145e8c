// Which instance bootstrap treats as the primary. Bootstrap must never move a working primary:
// right after a failover in a two-instance cluster nobody replicates from the new primary yet, and
// a choice by --primary or list order would hand the primary role back to the fenced old one.
import { compareGtidText } from '../gtid/positions.js';

export interface BootstrapCandidate {
  id: string;
  host: string;
  port: number;
  serverId: number;
  readOnly: boolean;
  /** gtid_binlog_pos (MySQL: gtid_executed). */
  gtid: string;
  replication: { sourceHost: string; sourcePort: number; sourceServerId: number | null } | null;
}

/** What the durable manager state (dramble_meta.manager_state) says, when there is any. */
export interface DurableHint {
  primaryId: string | null;
  quarantined: string[];
}

export type BootstrapChoice =
  | { primaryId: string; reason: string }
  | { primaryId: null; reason: string };

/**
 * Order of trust: the primary named by the durable state (when it is reachable and replicates from
 * nobody), an instance that others replicate from, a writable standalone instance with the newest
 * GTIDs, then --primary, then list order. Quarantined instances are never chosen. A single other
 * writable standalone instance beats the durable primary (a promotion the manager did not get to
 * record); when the durable primary is unreachable and there is none, nothing is chosen (a dead primary
 * is a failover's job, not bootstrap's).
 */
export function chooseBootstrapPrimary(live: BootstrapCandidate[], opts: { preferred?: string | undefined; durable?: DurableHint | null; allIds?: string[] }): BootstrapChoice {
  const durable = opts.durable ?? null;
  const quarantined = new Set(durable?.quarantined ?? []);
  const eligible = live.filter((c) => !quarantined.has(c.id));
  if (durable?.primaryId) {
    // The manager records a promotion's intent on the candidate before promoting it, so the record
    // names the new primary even when the manager died right after the promotion. A restarted old
    // primary is writable and standalone too: that alone proves nothing.
    const named = live.find((c) => c.id === durable.primaryId);
    if (named && named.replication === null) return { primaryId: named.id, reason: 'named by the durable manager state' };
    if (!named) {
      // A promotion whose intent could not be recorded leaves the new primary writable and standalone;
      // a freshly added empty server is too, but has no GTIDs.
      const promoted = eligible.filter((c) => c.replication === null && !c.readOnly && c.gtid !== '');
      if (promoted.length === 1) return { primaryId: promoted[0]!.id, reason: `writable and standalone while the recorded primary ${durable.primaryId} is unreachable (an unrecorded promotion)` };
      return { primaryId: null, reason: `the durable manager state names ${durable.primaryId} as primary and it is unreachable` };
    }
    // The named one replicates from someone: its promotion never happened (intent only), or a later
    // switchover moved the primary on; fall through to the topology.
  }
  const sources = eligible.filter((c) => c.replication === null && live.some((l) => l !== c && l.replication !== null && replicatesFrom(l, c)));
  if (sources[0]) return { primaryId: sources[0].id, reason: 'other instances replicate from it' };

  const standalone = eligible.filter((c) => c.replication === null);
  const writable = standalone.filter((c) => !c.readOnly);
  const pool = writable.length > 0 ? writable : standalone;
  if (pool.length === 0) return { primaryId: null, reason: 'every reachable instance replicates from another or is quarantined' };
  const order = opts.allIds ?? live.map((c) => c.id);
  const best = [...pool].sort((a, b) => {
    const byGtid = compareGtidText(b.gtid, a.gtid);
    if (byGtid !== 0) return byGtid;
    if (a.id === opts.preferred) return -1;
    if (b.id === opts.preferred) return 1;
    return order.indexOf(a.id) - order.indexOf(b.id);
  })[0]!;
  const newest = pool.every((c) => c === best || compareGtidText(best.gtid, c.gtid) > 0);
  const kind = writable.length > 0 ? 'writable' : 'read-only';
  const why = pool.length === 1 ? `the only ${kind} standalone instance` : newest ? `the ${kind} standalone instance with the newest GTIDs` : best.id === opts.preferred ? 'the configured --primary' : 'first in --instances order';
  return { primaryId: best.id, reason: why };
}

function replicatesFrom(replica: BootstrapCandidate, source: BootstrapCandidate): boolean {
  const r = replica.replication!;
  return r.sourceServerId === source.serverId || (r.sourceHost === source.host && r.sourcePort === source.port);
}
