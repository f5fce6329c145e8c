// The forwarding engine, one small state object per request instead of a chain of promises and
// async functions (each await cost a promise, a microtask and a resumed frame on the hot path).
// A Forwarding picks a backend (strategy over eligible candidates), sends the request on that
// backend's undici pool with the body streamed, being itself undici's handler, and retries on
// another backend when the attempt failed before any response byte and a retry is safe (see
// classify.ts) and in budget. What becomes of the answer is a subclass's: PassThrough writes it
// straight to the client, the cache's fetch (fetch-upstream.ts) resolves a promise with it.
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Logger } from '@dramble/lib';
import type { Backend } from '../backends/backend.js';
import type { BackendSet } from '../backends/backend-set.js';
import type { PickRequest, Strategy } from '../balancing/types.js';
import type { BalancerMetrics } from '../metrics.js';
import type { RequestContext } from '../request/context.js';
import { outgoingHeaderList } from '../request/passes.js';
import { classify, retryable, isIdempotent, statusCountsAsFailure, type Failure } from './classify.js';
import { BodyTooLargeError, ClientGoneError, UnsendableRequestError } from './errors.js';
import type { RetryBudget } from './retry-budget.js';
import { BackendError, type InterimListener } from './types.js';
import { UpstreamBody, type SettleListener } from './upstream-body.js';

export interface ForwardSettings {
  retries: number;
  hashOn: string | undefined;
  viaName: string;
  maxBodySize: number;
  activeChecks: boolean;
  failStatuses: readonly number[];
}

/** What every Forwarding of a balancer shares. */
export interface ForwardDeps {
  backends: BackendSet;
  strategy: () => Strategy;
  /** Rebuilt on reload only; read once per request. */
  settings: () => ForwardSettings;
  budget: RetryBudget;
  metrics: BalancerMetrics;
  logger: Logger;
}

/** A caller's changes to the request sent (the cache's conditional revalidation, HEAD fetched as GET). */
export interface ForwardOptions {
  headers?: Record<string, string>;
  method?: string;
  /** Request fields not sent (lower-case). */
  drop?: readonly string[];
  /** The backend's 1xx responses, in order, before the final one. */
  interim?: InterimListener;
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
const NO_HASH: PickRequest = {};

export abstract class Forwarding implements Dispatcher.DispatchHandler, SettleListener {
  // Fixed for the request.
  protected readonly settings: ForwardSettings;
  private readonly method: string;
  private readonly path: string;
  private readonly headers: string[];
  private readonly pickRequest: PickRequest;
  /** Body bookkeeping, only for requests with a body. */
  private readonly body: BodyState | undefined;
  private readonly retrySafe: boolean;
  private readonly startedAt: number;
  /** performance.now() at startedAt: later wall-clock times are derived from it (see onHeaders). */
  private readonly startedPerf: number;
  // The attempts so far. Every field is set here, so every Forwarding has one shape.
  /** Backends already tried; allocated only when a retry happens. */
  private tried: Set<string> | undefined = undefined;
  protected retries = 0;
  private lastFailure: { failure: Failure; backend: Backend; err: unknown } | undefined = undefined;
  /** The backend of the current attempt. */
  protected backend: Backend | undefined = undefined;
  private trial = false;
  private released = true;
  private t0 = 0;
  private abort: ((err: Error) => void) | undefined = undefined;
  private resume: (() => void) | undefined = undefined;
  protected upstream: UpstreamBody | undefined = undefined;
  /** Where 1xx responses go (the cache's fetch); PassThrough overrides informational() instead. */
  private readonly interimListener: InterimListener | undefined;

  constructor(
    protected readonly deps: ForwardDeps,
    readonly req: IncomingMessage,
    readonly ctx: RequestContext,
    opts: ForwardOptions | undefined,
  ) {
    const settings = deps.settings();
    this.settings = settings;
    const method = opts?.method ?? req.method ?? 'GET';
    const methodOverridden = opts?.method !== undefined && opts.method !== req.method;
    const withBody = !methodOverridden && hasBody(ctx);
    this.method = method;
    this.path = req.url ?? '/';
    const drop = methodOverridden ? (opts?.drop ? [...BODY_FIELDS, ...opts.drop] : BODY_FIELDS) : opts?.drop;
    this.headers = outgoingHeaderList(req, ctx, { viaName: settings.viaName, drop, extra: opts?.headers });
    this.interimListener = opts?.interim;
    const hashKey = hashKeyOf(req, ctx, settings.hashOn);
    this.pickRequest = hashKey !== undefined ? { hashKey } : NO_HASH;
    this.body = withBody ? new BodyState(req, settings.maxBodySize) : undefined;
    this.retrySafe = !withBody && isIdempotent(method);
    this.startedAt = Date.now();
    this.startedPerf = performance.now();
  }

  /** The backend's final response headers arrived; the body follows in `body`. */
  protected abstract answered(status: number, raw: Buffer[], body: UpstreamBody): void;

  /**
   * No backend answered: a BackendError (502/503/504 meaning), or ClientGoneError,
   * BodyTooLargeError, UnsendableRequestError.
   */
  protected abstract failed(err: Error): void;

  /** A 1xx response arrived before the final one. */
  protected informational(status: number, raw: Buffer[]): void {
    this.interimListener?.(status, raw);
  }

  /** Sends the first attempt; the outcome arrives through answered() or failed(). */
  start(): void {
    this.deps.budget.recordRequest(this.startedAt);
    this.attempt();
  }

  private attempt(): void {
    const { settings, ctx } = this;
    const retries = this.retries;
    const now = retries === 0 ? this.startedAt : Date.now();
    const { backends: eligible, trial } = this.deps.backends.eligible(this.tried, now, this.retrySafe && !settings.activeChecks && retries < settings.retries);
    let backend = eligible.length > 0 ? this.deps.strategy().pick(eligible, this.pickRequest) : undefined;
    if (!backend) {
      this.finish(this.lastFailure ? failureError(this.lastFailure, retries) : new BackendError('no-backend', 503, 'no healthy backend', undefined, retries));
      return;
    }
    if (!backend.hasRoom) {
      backend = this.withRoom(eligible, backend);
      if (!backend) return;
    }
    if (trial) backend.trialInFlight = true;
    backend.inFlight++;
    backend.pooled++;
    backend.requests++;
    this.backend = backend;
    this.trial = trial;
    this.released = false;
    this.abort = undefined;
    this.resume = undefined;
    this.upstream = undefined;
    this.t0 = performance.now();
    if (ctx.gone) {
      this.attemptFailed(new ClientGoneError('client closed the connection'));
      return;
    }
    const body = this.body;
    backend.pool.dispatch({ path: this.path, method: this.method as Dispatcher.HttpMethod, headers: this.headers, body: body ? body.stream() : null }, this);
  }

  // undici's handler (the legacy callback API: raw header Buffers, no wrapper objects).

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort as (err: Error) => void;
    // The client going away while we wait for the backend aborts the attempt (server.ts).
    this.ctx.cancel = this.abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    // 1xx informational responses (100, 102, 103 Early Hints) go to the listener; wait for the final one.
    if (status < 200) {
      this.informational(status, raw);
      return true;
    }
    const ctx = this.ctx;
    ctx.cancel = undefined;
    const backend = this.backend!;
    this.resume = resume;
    const body = new UpstreamBody(this.abort);
    this.upstream = body;
    const t1 = performance.now();
    // The wall clock from the request's start plus the monotonic time since: Date.now() is a
    // runtime call (about 400 instructions), performance.now() a fast one.
    const now = this.startedAt + (t1 - this.startedPerf);
    backend.recordLatency(t1 - this.t0, now);
    if (statusCountsAsFailure(status, raw, this.settings.failStatuses)) this.countFailure(backend, 'status', now);
    else backend.requestOk(now);
    body.whenSettled(this);
    ctx.backend = backend.name;
    ctx.retries = this.retries;
    this.answered(status, raw, body);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.upstream!.data(chunk, this.resume!);
  }

  onComplete(): void {
    this.upstream?.end();
  }

  onError(err: Error): void {
    this.ctx.cancel = undefined;
    const body = this.upstream;
    if (body) body.fail(err);
    else this.attemptFailed(err);
  }

  /** The response body is over (ended, failed or discarded): the backend's slot is free. */
  bodySettled(): void {
    this.release();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    const backend = this.backend!;
    backend.inFlight--;
    backend.pooled--;
    if (this.trial) backend.trialInFlight = false;
  }

  /** The attempt failed before any response byte: count it against the backend, then retry or give up. */
  private attemptFailed(err: unknown): void {
    this.release();
    const { ctx, deps, settings } = this;
    if (this.body?.error) return this.finish(this.body.error);
    if (ctx.gone) return this.finish(new ClientGoneError('client closed the connection', { cause: err }));
    // Refused before any I/O: no backend is at fault and another would refuse it too.
    if ((err as { code?: string }).code === 'UND_ERR_INVALID_ARG') return this.finish(new UnsendableRequestError((err as Error).message, { cause: err }));
    const backend = this.backend!;
    const failure = classify(err);
    this.lastFailure = { failure, backend, err };
    const { metrics, logger } = deps;
    if (failure.backendFault) this.countFailure(backend, failure.kind, Date.now());
    logger.debug({ err, backend: backend.id, requestId: ctx.id, attempt: this.retries + 1 }, 'backend attempt failed');
    if (this.retries < settings.retries && retryable(failure, this.method, this.body?.started ?? false)) {
      if (deps.budget.tryRetry(Date.now())) {
        (this.tried ??= new Set()).add(backend.id);
        this.retries++;
        metrics.retries.inc({ reason: failure.kind });
        this.attempt();
        return;
      }
      metrics.retriesDenied.inc();
    }
    this.finish(failureError(this.lastFailure, this.retries));
  }

  /** A passive health failure of `backend` (never ejects the last healthy one: BackendSet.failed). */
  private countFailure(backend: Backend, kind: string, now: number): void {
    const { metrics, logger } = this.deps;
    metrics.backendErrors.inc({ backend: backend.name, kind });
    if (this.deps.backends.failed(backend, now)) {
      metrics.ejections.inc({ backend: backend.name });
      logger.warn({ backend: backend.id, backendName: backend.name, fails: backend.health.fails, ejectedForMs: backend.health.backoffMs }, 'backend ejected');
    }
  }

  /**
   * The picked backend's connections and queue are full: another candidate with room (the
   * strategy's choice among them), or none, and the request is answered 503 with Retry-After at
   * once rather than waiting in a queue without bound.
   */
  private withRoom(eligible: readonly Backend[], full: Backend): Backend | undefined {
    const { metrics } = this.deps;
    metrics.queueFull.inc({ backend: full.name });
    const roomy = eligible.filter((b) => b.hasRoom);
    const backend = roomy.length > 0 ? this.deps.strategy().pick(roomy, this.pickRequest) : undefined;
    if (backend) return backend;
    metrics.queueRefusals.inc();
    this.finish(new BackendError('no-backend', 503, 'every backend is busy (connections and queue full)', undefined, this.retries));
    return undefined;
  }

  private finish(err: Error): void {
    this.ctx.retries = this.retries;
    this.failed(err);
  }
}

function failureError(last: { failure: Failure; backend: Backend; err: unknown }, retries: number): BackendError {
  const { failure, backend: b, err } = last;
  return new BackendError(failure.kind === 'aborted' ? 'connect' : failure.kind, failure.status, `backend ${b.name} failed: ${(err as Error).message}`, { id: b.id, name: b.name }, retries, { cause: err });
}
