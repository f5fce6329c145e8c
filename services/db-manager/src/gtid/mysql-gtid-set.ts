// MySQL GTID sets ("uuid:1-5:7,uuid2:1-3"): gtid_executed is a complete set, so "errant" is plain
// set difference and "has everything" is containment.

export type MysqlGtidSet = Map<string, Array<[number, number]>>;

/** MySQL sets start with a server UUID; MariaDB positions are digits-digits-digits. */
export function isMysqlGtidText(text: string): boolean {
  return /^\s*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.test(text);
}

export function parseMysqlGtidSet(text: string): MysqlGtidSet {
  const out: MysqlGtidSet = new Map();
  for (const part of text.replace(/\s+/g, '').split(',').filter(Boolean)) {
    const pieces = part.split(':');
    // Tagged GTIDs (8.3+) look like uuid:tag:1-5; keep the tag in the key.
    const ranges: string[] = [];
    const keyParts: string[] = [];
    for (const p of pieces) (/^\d+(-\d+)?$/.test(p) ? ranges : keyParts).push(p);
    const key = keyParts.join(':').toLowerCase();
    const list = out.get(key) ?? [];
    for (const r of ranges) {
      const [a, b] = r.split('-').map(Number) as [number, number | undefined];
      list.push([a, b ?? a]);
    }
    out.set(key, normalise(list));
  }
  return out;
}

function normalise(list: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...list].sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Transactions in `a` that are not in `b`. */
export function subtract(a: MysqlGtidSet, b: MysqlGtidSet): MysqlGtidSet {
  const out: MysqlGtidSet = new Map();
  for (const [key, ranges] of a) {
    let rest = ranges.map((r) => [...r] as [number, number]);
    for (const [s, e] of b.get(key) ?? []) {
      rest = rest.flatMap(([x, y]): Array<[number, number]> => {
        if (e < x || s > y) return [[x, y]];
        const parts: Array<[number, number]> = [];
        if (s > x) parts.push([x, s - 1]);
        if (e < y) parts.push([e + 1, y]);
        return parts;
      });
    }
    if (rest.length > 0) out.set(key, rest);
  }
  return out;
}

export function formatMysqlGtidSet(set: MysqlGtidSet): string {
  return [...set]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, rs]) => `${k}:${rs.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(':')}`)
    .join(',');
}

export function countTransactions(set: MysqlGtidSet): number {
  let n = 0;
  for (const rs of set.values()) for (const [a, b] of rs) n += b - a + 1;
  return n;
}
