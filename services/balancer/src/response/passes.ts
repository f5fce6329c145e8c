// The response passes, in order, over headers from a backend (hop-by-hop already stripped by
// the forwarder) before they go to the client.
import type { RequestContext } from '../request/context.js';
import type { HeaderMap } from '../request/hop-by-hop.js';

export interface ResponsePassOptions {
  viaName: string;
  servedByHeader: string;
  /** Strict-Transport-Security max-age (0 = none); only sent over HTTPS. */
  hstsMaxAge: number;
}

export interface ResponseInfo {
  backendName: string;
  httpVersion: string;
}

export type ResponsePass = (headers: HeaderMap, info: ResponseInfo, ctx: RequestContext | undefined, options: ResponsePassOptions) => void;

/** Names the backend that served (the Dramble's "which Pi served me"). */
export const servedBy: ResponsePass = (headers, info, _ctx, options) => {
  headers[options.servedByHeader.toLowerCase()] = info.backendName;
};

export const via: ResponsePass = (headers, info, _ctx, options) => {
  const entry = `${info.httpVersion} ${options.viaName}`;
  const prior = headers['via'];
  headers['via'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${entry}` : entry;
};

/** Echo the request id so a user report can be matched with the access log. */
export const requestId: ResponsePass = (headers, _info, ctx) => {
  if (ctx) headers['x-request-id'] = ctx.id;
};

export const hsts: ResponsePass = (headers, _info, ctx, options) => {
  if (options.hstsMaxAge > 0 && ctx?.proto === 'https') headers['strict-transport-security'] = `max-age=${options.hstsMaxAge}`;
};

export const RESPONSE_PASSES: readonly ResponsePass[] = [servedBy, via, requestId, hsts];

export function applyResponsePasses(headers: HeaderMap, info: ResponseInfo, ctx: RequestContext | undefined, options: ResponsePassOptions): HeaderMap {
  // A plain copy loop: spreading then adding keys was measurably slower on the hot path.
  const out: HeaderMap = {};
  for (const k in headers) out[k] = headers[k]!;
  for (const pass of RESPONSE_PASSES) pass(out, info, ctx, options);
  return out;
}
