// Least outstanding requests, weighted: the backend with the fewest in-flight requests per unit
// of weight wins; ties rotate so equal backends share the load.
import type { Candidate, Strategy } from './types.js';

export function createLeastOutstanding(): Strategy {
  let turn = 0;
  return {
    name: 'least-outstanding',
    pick<C extends Candidate>(candidates: readonly C[]): C | undefined {
      const n = candidates.length;
      if (n === 0) return undefined;
      turn = (turn + 1) % n;
      let best: C | undefined;
      let bestLoad = Infinity;
      for (let i = 0; i < n; i++) {
        const c = candidates[(turn + i) % n]!;
        const load = (c.inFlight + 1) / Math.max(c.weight, 0.01);
        if (load < bestLoad) {
          bestLoad = load;
          best = c;
        }
      }
      return best;
    },
  };
}
