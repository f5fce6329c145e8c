// Latency statistics for `dramble load`. Pure.

/** The p-th percentile (0..100) by nearest rank; 0 for no samples. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Window {
  ok: number;
  errors: number;
  latencies: number[];
  servedBy: Map<string, number>;
  /** Error kinds (status code or error code) and how often. */
  errorKinds: Map<string, number>;
}

export function newWindow(): Window {
  return { ok: 0, errors: 0, latencies: [], servedBy: new Map(), errorKinds: new Map() };
}

export function record(w: Window, r: { ok: boolean; ms: number; servedBy?: string; error?: string }): void {
  if (r.ok) w.ok++;
  else {
    w.errors++;
    const k = r.error ?? 'error';
    w.errorKinds.set(k, (w.errorKinds.get(k) ?? 0) + 1);
  }
  w.latencies.push(r.ms);
  if (r.servedBy) w.servedBy.set(r.servedBy, (w.servedBy.get(r.servedBy) ?? 0) + 1);
}

export function merge(into: Window, w: Window): void {
  into.ok += w.ok;
  into.errors += w.errors;
  for (const l of w.latencies) into.latencies.push(l);
  for (const [k, v] of w.servedBy) into.servedBy.set(k, (into.servedBy.get(k) ?? 0) + v);
  for (const [k, v] of w.errorKinds) into.errorKinds.set(k, (into.errorKinds.get(k) ?? 0) + v);
}

export function describe(w: Window, seconds: number): string {
  const total = w.ok + w.errors;
  const by = [...w.servedBy].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}:${v}`).join(' ');
  const errs = w.errors > 0 ? ` (${[...w.errorKinds].map(([k, v]) => `${k}×${v}`).join(', ')})` : '';
  return `${(total / Math.max(seconds, 0.001)).toFixed(1).padStart(6)} req/s  errors ${String(w.errors).padStart(3)}${errs}  p50 ${percentile(w.latencies, 50).toFixed(1)} ms  p99 ${percentile(w.latencies, 99).toFixed(1)} ms${by ? `  served by ${by}` : ''}`;
}
