// `dramble load`: traffic through the balancer with live req/s, errors and p99.
import { runLoad } from '../load/generator.js';
import { describe } from '../load/stats.js';
import type { Say } from '../output.js';
import type { Parsed } from '../args.js';
import { loadCluster } from './common.js';

export async function load(o: Parsed, out: Say): Promise<number> {
  const { cluster } = loadCluster(o.dir);
  if (!cluster.balancerUrl) throw new Error('cluster.json names no balancer URL');
  const url = new URL(o.path, cluster.balancerUrl).href;
  out(`load: ${o.rate} req/s for ${(o.duration / 1000).toFixed(0)} s against ${url} (at most ${o.concurrency} in flight); Ctrl-C stops`);
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  const total = await runLoad({
    url,
    rate: o.rate,
    durationMs: o.duration,
    concurrency: o.concurrency,
    signal: ac.signal,
    onSecond: (w, s) => out(`  ${String(s).padStart(3)} s ${describe(w, 1)}`),
  });
  process.off('SIGINT', stop);
  out(`total: ${total.ok + total.errors} requests, ${total.errors} errors; ${describe(total, o.duration / 1000)}`);
  return total.errors > 0 ? 1 : 0;
}
