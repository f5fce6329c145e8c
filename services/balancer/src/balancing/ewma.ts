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
  if (!prev || sampleMs >= prev.value) return { value: sampleMs, at: now };
  const w = Math.exp(-Math.max(now - prev.at, 0) / decayMs);
  return { value: prev.value * w + sampleMs * (1 - w), at: now };
}
