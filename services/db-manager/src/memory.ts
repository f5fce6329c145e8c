// A full garbage collection every 30 s, when the process was started with --expose-gc (the image does).
// Why: the manager's young generation is capped at 1 MB (--max-semi-space-size=1), and each probe round
// leaves ~20 KB of short-lived objects that survive two scavenges and land in the old generation. V8
// collects the old generation only once it has grown by at least 8 MB past its live size, so an idle
// manager's RSS climbed from ~55 MB to ~62 MB and back every six minutes or so. A full GC of its ~11 MB heap
// takes ~10 ms; run twice a minute it keeps the old generation at its live size.
// The first collection comes once start-up is over (main.ts: when the first probe round has finished,
// which opens every pool and connection) and frees the garbage that starting left, so work right after
// start (a failover, say) reuses that room instead of growing the heap: measured, the manager reported
// its first topology at ~61 MB and sat at ~57 MB after this collection.
// (Measured with bench/db-manager/_rss-probe.ts; figures in bench/db-manager/README.md.)

export const COLLECT_EVERY_MS = 30_000;
type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

/**
 * Starts the periodic collection if `gc` is exposed; returns a stop function (a no-op otherwise).
 * The first collection runs once `startedUp` settles, then one every `everyMs`.
 */
export function startPeriodicGc(startedUp: Promise<unknown>, everyMs = COLLECT_EVERY_MS, gc = (globalThis as { gc?: GcFunction }).gc): () => void {
  if (typeof gc !== 'function') return () => undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const collect = (): void => gc({ type: 'major', execution: 'async' });
  const begin = (): void => {
    if (stopped) return;
    gc(); // the first one plain, as collectLoadingGarbage explains: the start-up work is garbage by now
    timer = setInterval(collect, everyMs);
    timer.unref();
  };
  void startedUp.then(begin, begin);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/**
 * One synchronous full collection, when gc is exposed. Called once the modules are loaded.
 * Why: loading leaves ~6 MB of garbage and V8 grows the heap to hold it; left alone, those pages go
 * back to the system only when V8's memory reducer runs ~8 s after start, so the manager's first
 * seconds (when a failover may already be due) peaked ~8 MB above its steady RSS. The call is the plain
 * gc(): measured after loading these modules, it left a 16 MB heap where gc({ type: 'major', execution:
 * 'sync' }) left 19 MB.
 */
export function collectLoadingGarbage(gc = (globalThis as { gc?: GcFunction }).gc): void {
  if (typeof gc === 'function') gc();
}
