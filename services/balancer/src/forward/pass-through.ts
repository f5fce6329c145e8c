// The common proxied path: a request the cache does not answer (cache off, or not cacheable) is
// forwarded and its answer written straight to the client from undici's callbacks, with no promise
// in between: the response headers as one flat list built from the backend's raw headers, the
// body streamed with backpressure. Errors go to the error handler (502/503/504 pages). A response
// that compression will change (a client that accepts it, a compressible body) takes the general
// writer (header maps, streams) instead.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HandleError } from '../errors/handle.js';
import type { RequestContext } from '../request/context.js';
import { lowerName, responseHeaders, viaEntry } from '../request/hop-by-hop.js';
import { contentLengthOf, responseHeaderList, type AddedResponseFields } from '../response/header-list.js';
import type { ResponsePassOptions } from '../response/passes.js';
import { Forwarding, type ForwardDeps } from './forwarding.js';
import type { UpstreamResponse, WriteUpstream } from './types.js';
import type { UpstreamBody, WriteListener } from './upstream-body.js';
import { bodiless } from './write-upstream.js';
import { writeInterim } from './interim.js';

export interface PassThroughDeps extends ForwardDeps {
  /** Rebuilt on reload only. */
  responseOptions: () => ResponsePassOptions;
  /** Compression may change this response for this client: it takes `writeUpstream`. */
  mayCompress: (ctx: RequestContext, status: number, raw: Buffer[]) => boolean;
  /** The general writer (header maps, compression, streams). */
  writeUpstream: WriteUpstream;
  handleError: HandleError;
}

/** What the access log records as the cache's part in a request that went past it. */
const CACHE_RESULT = 'BYPASS';

/**
 * One proxied request. It is also the list builder's AddedResponseFields and the body's
 * WriteListener, so that answering allocates no object beyond the header list and the body.
 */
class PassThrough extends Forwarding implements AddedResponseFields, WriteListener {
  servedByName = '';
  backendName = '';
  viaEntry = '';
  requestId: string | undefined = undefined;
  hsts: string | undefined = undefined;

  constructor(
    private readonly out: PassThroughDeps,
    req: IncomingMessage,
    private readonly res: ServerResponse,
    ctx: RequestContext,
    /** The X-Cache header to send (BYPASS when the cache is on), or none. */
    readonly xCache: string | undefined,
  ) {
    super(out, req, ctx, undefined);
  }

  /** A backend's 103 / 102 goes to the client at once (forward/interim.ts). */
  protected override informational(status: number, raw: Buffer[]): void {
    writeInterim(this.res, status, raw);
  }

  protected answered(status: number, raw: Buffer[], body: UpstreamBody): void {
    const { req, res, ctx, out } = this;
    if (out.mayCompress(ctx, status, raw)) {
      this.writeGeneral(status, raw, body);
      return;
    }
    if (res.destroyed) {
      body.discard();
      return;
    }
    const options = out.responseOptions();
    this.servedByName = lowerName(options.servedByHeader);
    this.backendName = this.backend!.name;
    this.viaEntry = viaEntry(req.httpVersion, options.viaName);
    this.requestId = ctx.id;
    this.hsts = options.hstsMaxAge > 0 && ctx.proto === 'https' ? `max-age=${options.hstsMaxAge}` : undefined;
    const headers = responseHeaderList(raw, this);
    try {
      res.writeHead(status, headers);
    } catch (err) {
      // A header Node refuses to send: free the backend connection before the error page.
      body.discard();
      out.handleError(req, res, ctx, err);
      return;
    }
    ctx.cache = CACHE_RESULT;
    if (bodiless(req.method, status)) {
      // No body follows (HEAD, 204, 304): undici ends it at once and that frees the backend.
      ctx.bytes = 0;
      res.end();
      return;
    }
    ctx.sink = body;
    body.writeTo(res, this, ctx.closeWatched === true, contentLengthOf(headers));
  }

  bodyWritten(): void {
    this.ctx.bytes = this.upstream!.bytes;
  }

  protected failed(err: Error): void {
    this.out.handleError(this.req, this.res, this.ctx, err);
  }

  /** Compression may change the response: header map, response passes and streams (write-upstream.ts). */
  private writeGeneral(status: number, raw: Buffer[], body: UpstreamBody): void {
    const { req, res, ctx, out } = this;
    const headers = responseHeaders(raw);
    // The cache keeps Cache-Tag to itself whenever it saw the request.
    if (this.xCache !== undefined) delete headers['cache-tag'];
    const upstream: UpstreamResponse = { status, headers, body, backend: this.backend!.ref, retries: this.retries };
    out.writeUpstream(res, upstream, this.xCache !== undefined ? { 'x-cache': this.xCache } : undefined).then(
      () => {
        ctx.cache = CACHE_RESULT;
      },
      (err: unknown) => out.handleError(req, res, ctx, err),
    );
  }
}

/** Forwards the request and writes the answer (or the error page) to `res`. */
export function passThrough(deps: PassThroughDeps, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, xCache: string | undefined): void {
  new PassThrough(deps, req, res, ctx, xCache).start();
}
