// Power of two choices over EWMA latency (the default): pick two distinct candidates at random and
// send to the one with the lower cost = latency x (in-flight + 1) / weight. Cheap, needs no global
// ordering, and avoids the herd behaviour of always choosing the single "best" backend.
import type { Candidate, PickRequest, Strategy } from './types.js';

export function cost(c: Candidate): number {
  // An unmeasured backend costs like a 1 ms one, so new backends get probed quickly.
  const latency = c.ewmaMs > 0 ? c.ewmaMs : 1;
  return (latency * (c.inFlight + 1)) / Math.max(c.weight, 0.01);
}

export function createP2cEwma(): Strategy {
  return {
    name: 'p2c-ewma',
    pick<C extends Candidate>(candidates: readonly C[], request: PickRequest): C | undefined {
      const n = candidates.length;
      if (n <= 1) return candidates[0];
      const random = request.random ?? Math.random;
      const i = Math.floor(random() * n) % n;
      let j = Math.floor(random() * (n - 1)) % (n - 1);
      if (j >= i) j++;
      const a = candidates[i]!;
      const b = candidates[j]!;
      return cost(b) < cost(a) ? b : a;
    },
  };
}
