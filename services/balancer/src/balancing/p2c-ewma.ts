// Power of two choices over EWMA latency (the default): pick two distinct candidates at random and
// send to the one with the lower cost = latency x (in-flight + 1) / weight. Cheap, needs no global
// ordering, and avoids the herd behaviour of always choosing the single "best" backend. Costs
// within a margin count as equal: then fewer outstanding requests wins, then the random draw.
import type { Candidate, PickRequest, Strategy } from './types.js';

/**
 * Two costs count as equal when the higher is at most COST_MARGIN times the lower plus
 * COST_SLACK_MS. Why: with two backends p2c compares the same pair every time, so any lasting
 * difference, however small, sends every request to one of them. And lasting small differences
 * are the norm between equal Pis: peak EWMA keeps a higher sample at once but blends a lower one
 * in only with time (10 s), so a first request that paid for the TCP connect, or one GC pause,
 * marks a backend "slower" for seconds; sub-millisecond differences are noise. A backend more
 * than half again as slow still loses, which is what p2c-ewma is for.
 */
export const COST_MARGIN = 1.5;
export const COST_SLACK_MS = 2;

export function cost(c: Candidate): number {
  // An unmeasured backend costs like a 1 ms one, so new backends get probed quickly.
  const latency = c.ewmaMs > 0 ? c.ewmaMs : 1;
  return (latency * (c.inFlight + 1)) / Math.max(c.weight, 0.01);
}

/** Of two candidates, the one p2c sends to; `a` wins a full tie (the caller drew it at random). */
export function cheaper<C extends Candidate>(a: C, b: C): C {
  const ca = cost(a);
  const cb = cost(b);
  const lo = ca < cb ? ca : cb;
  const hi = ca < cb ? cb : ca;
  if (hi > lo * COST_MARGIN + COST_SLACK_MS) return cb < ca ? b : a;
  // Outstanding requests per unit of weight: long-lived streams count until their body ends.
  const la = a.inFlight / Math.max(a.weight, 0.01);
  const lb = b.inFlight / Math.max(b.weight, 0.01);
  return lb < la ? b : a;
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
      return cheaper(candidates[i]!, candidates[j]!);
    },
  };
}
