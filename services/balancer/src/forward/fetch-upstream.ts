// The forwarding engine: picks a backend (strategy over healthy candidates), sends the request on
// that backend's undici pool with the body streamed, and retries on another backend when the
// attempt failed before any response byte and a retry is safe (see classify.ts) and in budget.
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Logger } from '@dramble/lib';
import type { Backend } from '../backends/backend.js';
import type { BackendSet } from '../backends/backend-set.js';
import type { Strategy } from '../balancing/types.js';
import type { BalancerMetrics } from '../metrics.js';
import { getContext, type RequestContext } from '../request/context.js';
import { outgoingHeaderList } from '../request/passes.js';
import { dispatch } from './dispatch.js';
import { classify, retryable, isIdempotent, type Failure } from './classify.js';
import type { RetryBudget } from './retry-budget.js';
import { BackendError, type FetchUpstream, type UpstreamResponse } from './types.js';

export interface ForwardSettings {
  retries: number;
  hashOn: string | undefined;
  viaName: string;
  maxBodySize: number;
  activeChecks: boolean;
  failStatuses: readonly number[];
}

export interface ForwardDeps {
  backends: BackendSet;
  strategy: () => Strategy;
  settings: () => ForwardSettings;
  budget: RetryBudget;
  metrics: BalancerMetrics;
  logger: Logger;
}

/** The request body exceeded --max-body-size while streaming (413). */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/** The request cannot be sent as it is (undici refused it: bad path or header); the client's fault. */
export class UnsendableRequestError extends Error {
  override readonly name = 'UnsendableRequestError';
}

/** The client went away before the backend answered. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
}

export function hasBody(ctx: RequestContext): boolean {
  const cl = ctx.headers.contentLength;
  return ctx.headers.transferEncoding !== undefined || (cl !== undefined && cl !== '0');
}

function hashKeyOf(req: IncomingMessage, ctx: RequestContext, hashOn: string | undefined): string | undefined {
  if (!hashOn) return undefined;
  if (hashOn === 'ip') return ctx.clientIp;
  const name = hashOn.slice('cookie:'.length);
  const cookie = req.headers.cookie;
  if (!cookie) return undefined;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A request body streamed to a backend: whether any byte was pulled (then it cannot be replayed), and why it failed. */
class BodyState {
  started = false;
  error: Error | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly maxBody: number,
  ) {}

  stream(): Readable {
    return Readable.from(this.chunks(), { objectMode: false });
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    this.started = true;
    let n = 0;
    try {
      for await (const chunk of this.req as AsyncIterable<Buffer>) {
        n += chunk.length;
        if (this.maxBody > 0 && n > this.maxBody) throw (this.error = new BodyTooLargeError(this.maxBody));
        yield chunk;
      }
    } catch (err) {
      this.error ??= new ClientGoneError('client aborted the request body', { cause: err });
      throw this.error;
    }
  }
}

const BODY_FIELDS = ['content-length', 'content-type'];
const NO_HASH = {};

export function createFetchUpstream(deps: ForwardDeps): FetchUpstream {
  const { backends, budget, metrics, logger } = deps;

  return async function fetchUpstream(req, opts): Promise<UpstreamResponse> {
    const ctx = getContext(req);
    if (!ctx) throw new Error('fetchUpstream needs a request that went through the balancer server');
    const settings = deps.settings();
    const method = opts?.method ?? req.method ?? 'GET';
    const methodOverridden = opts?.method !== undefined && opts.method !== req.method;
    const withBody = !methodOverridden && hasBody(ctx);
    const headers = outgoingHeaderList(req, ctx, { viaName: settings.viaName, drop: methodOverridden ? BODY_FIELDS : undefined, extra: opts?.headers });
    const hashKey = hashKeyOf(req, ctx, settings.hashOn);
    const strategy = deps.strategy();
    const path = req.url ?? '/';

    // Body bookkeeping (only for requests with a body): has any byte been pulled (then it cannot
    // be replayed), did it overflow.
    const body = withBody ? new BodyState(req, settings.maxBodySize) : undefined;

    let tried: Set<string> | undefined; // allocated only when a retry happens
    let retries = 0;
    let lastFailure: { failure: Failure; backend: Backend; err: unknown } | undefined;
    const retrySafe = !withBody && isIdempotent(method);
    const start = Date.now();
    budget.recordRequest(start);
    try {
      for (;;) {
        const now = retries === 0 ? start : Date.now();
        const { backends: eligible, trial } = backends.eligible(tried, now, retrySafe && !settings.activeChecks && retries < settings.retries);
        const backend = eligible.length > 0 ? strategy.pick(eligible, hashKey !== undefined ? { hashKey } : NO_HASH) : undefined;
        if (!backend) {
          if (lastFailure) {
            const { failure, backend: b, err } = lastFailure;
            throw new BackendError(failure.kind === 'aborted' ? 'connect' : failure.kind, failure.status, `backend ${b.name} failed: ${(err as Error).message}`, { id: b.id, name: b.name }, retries, { cause: err });
          }
          throw new BackendError('no-backend', 503, 'no healthy backend', undefined, retries);
        }
        if (trial) backend.trialInFlight = true;
        backend.inFlight++;
        backend.requests++;
        const t0 = performance.now();
        let released = false;
        const release = (): void => {
          if (released) return;
          released = true;
          backend.inFlight--;
          if (trial) backend.trialInFlight = false;
        };
        try {
          if (ctx.gone) throw new ClientGoneError('client closed the connection');
          const r = await dispatch(backend.pool, { path, method: method as 'GET', headers, body: body ? body.stream() : null }, ctx);
          const t1 = performance.now();
          const now = Date.now();
          backend.recordLatency(t1 - t0, now);
          backend.requestDone(!settings.failStatuses.includes(r.status), now);
          r.body.whenSettled(release);
          ctx.backend = backend.name;
          ctx.retries = retries;
          return { status: r.status, headers: r.headers, body: r.body, backend: backend.ref, retries };
        } catch (err) {
          release();
          if (body?.error) throw body.error;
          if (ctx.gone) throw new ClientGoneError('client closed the connection', { cause: err });
          // Refused before any I/O: no backend is at fault and another would refuse it too.
          if ((err as { code?: string }).code === 'UND_ERR_INVALID_ARG') throw new UnsendableRequestError((err as Error).message, { cause: err });
          const failure = classify(err);
          lastFailure = { failure, backend, err };
          if (failure.backendFault) {
            const before = backend.health.ejections;
            backend.failures++;
            backend.event({ type: 'request-fail', now: Date.now() });
            metrics.backendErrors.inc({ backend: backend.name, kind: failure.kind });
            if (backend.health.ejections > before) {
              metrics.ejections.inc({ backend: backend.name });
              logger.warn({ backend: backend.id, backendName: backend.name, fails: backend.health.fails, ejectedForMs: backend.health.backoffMs }, 'backend ejected');
            }
          }
          logger.debug({ err, backend: backend.id, requestId: ctx.id, attempt: retries + 1 }, 'backend attempt failed');
          if (retries < settings.retries && retryable(failure, method, body?.started ?? false)) {
            if (budget.tryRetry(Date.now())) {
              (tried ??= new Set()).add(backend.id);
              retries++;
              metrics.retries.inc({ reason: failure.kind });
              continue;
            }
            metrics.retriesDenied.inc();
          }
          throw new BackendError(failure.kind === 'aborted' ? 'connect' : failure.kind, failure.status, `backend ${backend.name} failed: ${(err as Error).message}`, { id: backend.id, name: backend.name }, retries, { cause: err });
        }
      }
    } finally {
      ctx.retries = retries;
    }
  };
}
