// Peak EWMA over irregular samples (Finagle/Linkerd): a sample above the average replaces it at
// once (react fast to a backend getting slow), a lower one is blended in with a weight that grows
// with the time since the last sample (so an old slow period is forgotten, not held forever).

export interface Ewma {
  value: number;
  /** Time of the last sample (ms). */
  at: number;
}

/** Folds a latency sample taken at `now` into `prev`; `decayMs` is the time constant. */
export function updateEwma(prev: Ewma | undefined, sampleMs: number, now: number, decayMs: number): Ewma {
  if (!prev) return { value: sampleMs, at: now };
  const next = { value: prev.value, at: prev.at };
  foldEwma(next, sampleMs, now, decayMs);
  return next;
}

/** The same rule, applied to `e` in place: the balancer keeps one average per backend, not one object per request. */
export function foldEwma(e: Ewma, sampleMs: number, now: number, decayMs: number): void {
  if (sampleMs >= e.value) e.value = sampleMs;
  else {
    const w = Math.exp(-Math.max(now - e.at, 0) / decayMs);
    e.value = e.value * w + sampleMs * (1 - w);
  }
  e.at = now;
}

/**
 * The average as seen at `now`: it decays towards zero while no sample arrives, so a backend that
 * was slow once and then never picked (p2c over two backends always prefers the other one) looks
 * cheap again after a few time constants, gets a request, and is measured afresh.
 */
export function ewmaAt(e: Ewma | undefined, now: number, decayMs: number): number {
  if (!e) return 0;
  return e.value * Math.exp(-Math.max(now - e.at, 0) / decayMs);
}
