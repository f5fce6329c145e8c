// Which instance is the primary when the manager starts without one in mind: the one the others
// replicate from, else the only writable instance that replicates from nobody.
import { sourceOf } from './derive.js';
import type { TopologySnapshot } from './snapshot.js';

export function inferPrimary(s: TopologySnapshot): string | null {
  const votes = new Map<string, number>();
  for (const i of s.instances) {
    if (!i.reachable) continue;
    const src = sourceOf(s, i);
    if (src && src.replication === null) votes.set(src.id, (votes.get(src.id) ?? 0) + 1);
  }
  const best = [...votes].sort((a, b) => b[1] - a[1])[0];
  if (best) return best[0];
  const writable = s.instances.filter((i) => i.reachable && i.replication === null && i.readOnly === false);
  return writable.length === 1 ? writable[0]!.id : null;
}
