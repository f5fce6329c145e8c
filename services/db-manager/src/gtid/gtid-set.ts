// MariaDB GTID positions (domain-server-seq lists) and the comparisons failover depends on:
// "has A got everything B has" (promotion, switchover) and "which GTIDs does A have that the
// primary never had" (errant transactions that forbid a rejoin).

export interface Gtid {
  domain: number;
  server: number;
  seq: number;
}

export class GtidParseError extends Error {
  constructor(readonly input: string) {
    super(`not a MariaDB GTID list: "${input}"`);
    this.name = 'GtidParseError';
  }
}

/** Parses "0-1-100,1-2-5" (gtid_binlog_pos, gtid_current_pos, gtid_slave_pos, gtid_binlog_state). */
export function parseGtidList(text: string | null | undefined): Gtid[] {
  const s = (text ?? '').trim();
  if (s === '') return [];
  return s.split(',').map((part) => {
    const m = /^\s*(\d+)-(\d+)-(\d+)\s*$/.exec(part);
    if (!m) throw new GtidParseError(s);
    return { domain: Number(m[1]), server: Number(m[2]), seq: Number(m[3]) };
  });
}

export function formatGtid(g: Gtid): string {
  return `${g.domain}-${g.server}-${g.seq}`;
}

export function formatGtidList(list: Gtid[]): string {
  return [...list].sort((a, b) => a.domain - b.domain || a.server - b.server).map(formatGtid).join(',');
}

/** Highest sequence number per replication domain (a position has one GTID per domain). */
export function positionByDomain(list: Gtid[]): Map<number, Gtid> {
  const out = new Map<number, Gtid>();
  for (const g of list) {
    const cur = out.get(g.domain);
    if (!cur || g.seq > cur.seq) out.set(g.domain, g);
  }
  return out;
}

/** True when position `a` has applied everything position `b` has (per domain, seq_a >= seq_b). */
export function containsPosition(a: Gtid[], b: Gtid[]): boolean {
  const pa = positionByDomain(a);
  for (const [domain, gb] of positionByDomain(b)) {
    const ga = pa.get(domain);
    if (!ga || ga.seq < gb.seq) return false;
  }
  return true;
}

/** Orders positions for promotion: -1 when a is behind b, 1 when ahead, 0 when equal or diverged per domain. */
export function comparePositions(a: Gtid[], b: Gtid[]): number {
  const ab = containsPosition(a, b);
  const ba = containsPosition(b, a);
  if (ab && !ba) return 1;
  if (ba && !ab) return -1;
  if (ab && ba) return 0;
  // Diverged: fall back to the total number of transactions seen, so the sort stays total.
  return Math.sign(totalSeq(a) - totalSeq(b));
}

function totalSeq(list: Gtid[]): number {
  let n = 0;
  for (const g of positionByDomain(list).values()) n += g.seq;
  return n;
}

/**
 * GTIDs an instance holds that the reference (the primary) never had, from both binlog states
 * (gtid_binlog_state lists the last GTID per domain AND server). Comparing per (domain, server)
 * catches the classic case a per-domain position misses: the old primary committed 0-1-101 that no
 * replica received, the new primary went on to 0-2-110; 101 < 110 yet 0-1-101 exists nowhere else.
 * Returns the instance's offending GTIDs (the newest one per domain-server pair).
 */
export function errantGtids(instanceState: Gtid[], referenceState: Gtid[], referenceServerId?: number | null): Gtid[] {
  const ref = new Map<string, number>();
  for (const g of referenceState) {
    const k = `${g.domain}-${g.server}`;
    ref.set(k, Math.max(ref.get(k) ?? -1, g.seq));
  }
  // A lagging replica has the same pairs with lower seqs: not errant. A pair the reference lacks,
  // or a seq beyond the reference's for that pair, was written somewhere the primary never saw.
  return instanceState.filter((g) => {
    // The reference's own transactions reach an instance only from the reference itself: one that
    // looks ahead was read a moment after the reference was (probes are concurrent), not errant.
    if (referenceServerId !== undefined && referenceServerId !== null && g.server === referenceServerId && ref.has(`${g.domain}-${g.server}`)) return false;
    const known = ref.get(`${g.domain}-${g.server}`);
    return known === undefined || known < g.seq;
  });
}
