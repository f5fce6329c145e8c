// The outgoing request passes, in order: each takes the headers being built for the backend and
// the request context. The order is the contract: hop-by-hop stripping runs before anything is
// added so that nothing we add can be stripped by a client's Connection header.
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from './context.js';
import { withoutHopByHop, type HeaderMap } from './hop-by-hop.js';

export interface RequestPassOptions {
  viaName: string;
}

export type RequestPass = (headers: HeaderMap, req: IncomingMessage, ctx: RequestContext, options: RequestPassOptions) => HeaderMap;

/** X-Forwarded-For: keep what a trusted proxy sent, then append the peer, so the right-most entry is always our real peer. */
export const forwardedFor: RequestPass = (headers, _req, ctx) => {
  const incoming = ctx.trustedPeer ? headers['x-forwarded-for'] : undefined;
  const prior = Array.isArray(incoming) ? incoming.join(', ') : incoming;
  headers['x-forwarded-for'] = prior ? `${prior}, ${ctx.peer}` : ctx.peer;
  return headers;
};

/** X-Forwarded-Proto/-Host: from a trusted proxy kept, otherwise what this connection saw. */
export const forwardedProtoHost: RequestPass = (headers, req, ctx) => {
  if (!ctx.trustedPeer || headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = ctx.proto;
  if (!ctx.trustedPeer || headers['x-forwarded-host'] === undefined) {
    if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
    else delete headers['x-forwarded-host'];
  }
  if (!ctx.trustedPeer) delete headers['forwarded'];
  return headers;
};

/** X-Request-Id: passed through (the context already adopted a valid incoming one) or created. */
export const requestId: RequestPass = (headers, _req, ctx) => {
  headers['x-request-id'] = ctx.id;
  return headers;
};

/** Via (RFC 9110 §7.6.3): appended, so loops and the proxy chain are visible. */
export const via: RequestPass = (headers, req, _ctx, options) => {
  const entry = `${req.httpVersion} ${options.viaName}`;
  const prior = headers['via'];
  headers['via'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${entry}` : entry;
  return headers;
};

export const REQUEST_PASSES: readonly RequestPass[] = [forwardedFor, forwardedProtoHost, requestId, via];

/** Builds the headers sent to the backend for `req`. */
export function outgoingHeaders(req: IncomingMessage, ctx: RequestContext, options: RequestPassOptions, extra?: Record<string, string>): HeaderMap {
  let headers = withoutHopByHop(req.headers);
  for (const pass of REQUEST_PASSES) headers = pass(headers, req, ctx, options);
  if (extra) for (const [k, v] of Object.entries(extra)) headers[k.toLowerCase()] = v;
  return headers;
}
