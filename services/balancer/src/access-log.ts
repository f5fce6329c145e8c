// What happens when a response is done: request metrics (status class, backend, latency) and one
// access-log line (pino JSON) per request.
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { lineWriter, type Logger } from '@dramble/lib';
import { statusClass, type BalancerMetrics } from './metrics.js';
import type { RequestContext } from './request/context.js';

export type FinishRequest = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => void;

export function createFinish(logger: Logger, metrics: BalancerMetrics, enabled: () => boolean): FinishRequest {
  // The access line carries no header values or secrets (fixed keys below), so it is built by hand
  // and skips pino's generic serialisation and redaction: ~1 us per line against ~4 us (and ~20 us
  // with the shared logger's wildcard redaction).
  const accessLog = lineWriter(logger.child({ log: 'access' }));
  // The count goes to the tally (added to the counter at scrape time), the duration to the
  // histogram's child for the backend: both keep their slots by label, no key string built per request.
  const record = (code: string, backend: string, seconds: number): void => {
    metrics.requestTally.slot(code, backend).n++;
    metrics.duration.labels(backend).observe(seconds);
  };

  return (req, res, ctx) => {
    const status = res.headersSent ? res.statusCode : 0;
    const seconds = (performance.now() - ctx.start) / 1000;
    const backend = ctx.backend ?? '-';
    record(status ? statusClass(status) : 'aborted', backend, seconds);
    if (!enabled() || !accessLog.enabled()) return;
    const cache = ctx.cache ?? res.getHeader('x-cache');
    accessLog.write(
      `"method":${q(req.method ?? '')},"path":${q(req.url ?? '')},"status":${status}${ctx.bytes !== undefined ? `,"bytes":${ctx.bytes}` : ''}` +
        `,"ms":${Math.round(seconds * 100_000) / 100},"backend":${q(backend)}${cache !== undefined ? `,"cache":${q(String(cache))}` : ''}` +
        `,"requestId":${q(ctx.id)},"retries":${ctx.retries},"client":${q(ctx.clientIp)},"completed":${res.writableFinished}${ctx.error ? `,"error":${q(ctx.error)}` : ''}`,
    );
  };
}

/** A JSON string literal (escapes quotes, backslashes and control characters). */
const q = (s: string): string => JSON.stringify(s);
