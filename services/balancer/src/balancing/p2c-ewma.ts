// Power of two choices over EWMA latency (the default): pick two distinct candidates at random and
// send to the one with the lower cost = latency x (in-flight + 1) / weight. Cheap, needs no global
// ordering, and avoids the herd behaviour of always choosing the single "best" backend. Costs
// within a margin count as equal: then fewer outstanding requests wins, then the random draw.
import type { Candidate, PickRequest, Strategy } from './types.js';

/**
 * Two costs count as equal when the higher is at most COST_MARGIN times the lower plus
 * COST_SLACK_MS. Why: with two backends p2c compares the same pair every time, so any lasting
 * difference, however small, sends every request to one of them. And lasting differences are the
 * norm between equal Pis: peak EWMA takes a higher sample at once but blends a lower one in only
 * with time (10 s), and a backend that is not picked gets no new sample, so one slow answer (the
 * first request's cold code and TCP connect, a GC pause, a busy moment) marks it "slower" for
 * seconds; on a busy machine such answers took 2-4x the usual time (measured with 30-100 ms
 * pages). The margin is this generous because it decides only at light load: under load the
 * slower backend also holds more requests in flight (Little's law), so its cost grows with the
 * square of the latency ratio and a backend about 1.8x slower already loses; a stalled or
 * throttled Pi (10x and more) loses at any load.
 */
export const COST_MARGIN = 3;
export const COST_SLACK_MS = 5;

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
