// Steady traffic through the balancer for `dramble load`: R requests per second (open loop, at
// most C in flight), one line per second with req/s, errors and p99, and a total at the end.
import { Agent, request } from 'undici';
import { merge, newWindow, record, type Window } from './stats.js';

export interface LoadOptions {
  url: string;
  rate: number;
  durationMs: number;
  concurrency: number;
  onSecond?: (w: Window, second: number) => void;
  signal?: AbortSignal;
}

export async function runLoad(o: LoadOptions): Promise<Window> {
  const agent = new Agent({ connections: o.concurrency, keepAliveTimeout: 4000 });
  const total = newWindow();
  let current = newWindow();
  let inFlight = 0;
  let sent = 0;
  const t0 = performance.now();
  const pending = new Set<Promise<void>>();

  const one = async (): Promise<void> => {
    const start = performance.now();
    try {
      const res = await request(o.url, { dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
      await res.body.dump();
      const servedBy = res.headers['x-served-by'];
      const ok = res.statusCode < 500;
      record(current, { ok, ms: performance.now() - start, ...(typeof servedBy === 'string' ? { servedBy } : {}), ...(ok ? {} : { error: String(res.statusCode) }) });
    } catch (err) {
      record(current, { ok: false, ms: performance.now() - start, error: (err as { code?: string }).code ?? (err as Error).name });
    }
  };

  let second = 0;
  const ticker = setInterval(() => {
    second++;
    merge(total, current);
    o.onSecond?.(current, second);
    current = newWindow();
  }, 1000);

  try {
    while (!o.signal?.aborted) {
      const elapsed = performance.now() - t0;
      if (elapsed >= o.durationMs) break;
      const due = Math.floor((elapsed / 1000) * o.rate) + 1;
      while (sent < due && inFlight < o.concurrency) {
        sent++;
        inFlight++;
        const p: Promise<void> = one().finally(() => {
          inFlight--;
          pending.delete(p);
        });
        pending.add(p);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(pending);
  } finally {
    clearInterval(ticker);
    merge(total, current);
    await agent.close();
  }
  return total;
}
