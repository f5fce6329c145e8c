// A full garbage collection every 30 s, when the process was started with --expose-gc (the image does).
// Why: the manager's young generation is capped at 1 MB (--max-semi-space-size=1), and each probe round
// leaves ~20 KB of short-lived objects that survive two scavenges and land in the old generation. V8
// collects the old generation only once it has grown by at least 8 MB past its live size, so an idle
// manager's RSS climbed from ~55 MB to ~62 MB and back every six minutes or so. A full GC of its ~11 MB heap
// takes ~10 ms; run twice a minute it keeps the old generation at its live size.
// The first collection comes 1 s after start and frees the ~4 MB of garbage that loading the modules
// left, so work right after start (a failover, say) reuses that room instead of growing the heap; V8
// itself hands the emptied pages back to the system about 8 s after start.
// (Measured with bench/db-manager/_rss-probe.ts; figures in bench/db-manager/README.md.)

export const COLLECT_EVERY_MS = 30_000;
export const FIRST_COLLECT_MS = 1_000;

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

/** Starts the periodic collection if `gc` is exposed; returns a stop function (a no-op otherwise). */
export function startPeriodicGc(everyMs = COLLECT_EVERY_MS, firstMs = FIRST_COLLECT_MS, gc = (globalThis as { gc?: GcFunction }).gc): () => void {
  if (typeof gc !== 'function') return () => undefined;
  const collect = (): void => gc({ type: 'major', execution: 'async' });
  let timer: NodeJS.Timeout = setTimeout(() => {
    collect();
    timer = setInterval(collect, everyMs);
    timer.unref();
  }, firstMs);
  timer.unref();
  return () => clearTimeout(timer); // clears the interval too
}
