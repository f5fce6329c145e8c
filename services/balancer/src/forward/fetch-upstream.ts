// The forwarding engine behind a promise, for the edge cache (lookups, misses, background
// refreshes), which needs the response as a value: resolves with the status, the backend's
// headers as a map (hop-by-hop removed) and the streamed body once the headers arrived; rejects
// with the typed error when no backend answered. Requests that skip the cache do not come here:
// pass-through.ts writes them to the client without a promise.
import type { IncomingMessage } from 'node:http';
import { getContext, type RequestContext } from '../request/context.js';
import { responseHeaders } from '../request/hop-by-hop.js';
import { Forwarding, type ForwardDeps, type ForwardOptions } from './forwarding.js';
import type { FetchUpstream, UpstreamResponse } from './types.js';
import type { UpstreamBody } from './upstream-body.js';

class FetchForwarding extends Forwarding {
  constructor(
    deps: ForwardDeps,
    req: IncomingMessage,
    ctx: RequestContext,
    opts: ForwardOptions | undefined,
    private readonly resolve: (r: UpstreamResponse) => void,
    private readonly reject: (err: Error) => void,
  ) {
    super(deps, req, ctx, opts);
  }

  protected answered(status: number, raw: Buffer[], body: UpstreamBody): void {
    this.resolve({ status, headers: responseHeaders(raw), body, backend: this.backend!.ref, retries: this.retries });
  }

  protected failed(err: Error): void {
    this.reject(err);
  }
}

export function createFetchUpstream(deps: ForwardDeps): FetchUpstream {
  return function fetchUpstream(req, opts): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const ctx = getContext(req);
      if (!ctx) throw new Error('fetchUpstream needs a request that went through the balancer server');
      new FetchForwarding(deps, req, ctx, opts, resolve, reject).start();
    });
  };
}
