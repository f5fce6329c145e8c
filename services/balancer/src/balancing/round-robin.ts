// Smooth weighted round robin (nginx's algorithm): each pick adds every candidate's weight to its
// running score, takes the highest and subtracts the total, so weights 5:1:1 give a,a,b,a,c,a,a
// rather than bursts. State is keyed by backend id, so candidates may come and go between picks.
import type { Candidate, Strategy } from './types.js';

export function createRoundRobin(): Strategy {
  const current = new Map<string, number>();
  return {
    name: 'round-robin',
    pick<C extends Candidate>(candidates: readonly C[]): C | undefined {
      let total = 0;
      let best: C | undefined;
      let bestScore = -Infinity;
      for (const c of candidates) {
        const w = Math.max(c.weight, 0.01);
        total += w;
        const score = (current.get(c.id) ?? 0) + w;
        current.set(c.id, score);
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
      if (best) current.set(best.id, bestScore - total);
      if (current.size > candidates.length * 4 + 16) {
        const ids = new Set(candidates.map((c) => c.id));
        for (const id of current.keys()) if (!ids.has(id)) current.delete(id);
      }
      return best;
    },
  };
}
