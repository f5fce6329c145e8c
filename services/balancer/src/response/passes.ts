// The response passes over headers from a backend (hop-by-hop already stripped by the forwarder)
// before they go to the client, applied to a copy (a cache entry's headers are shared):
// - the served-by header names the backend (the Dramble's "which Pi served me");
// - Via gets our entry appended;
// - X-Request-Id echoes the request id, so a user report can be matched with the access log;
// - Strict-Transport-Security over HTTPS when configured;
// - then the caller's extra headers (X-Cache, Age).
import type { RequestContext } from '../request/context.js';
import { lowerName, viaEntry, type HeaderMap } from '../request/hop-by-hop.js';

export interface ResponsePassOptions {
  viaName: string;
  servedByHeader: string;
  /** Strict-Transport-Security max-age (0 = none); only sent over HTTPS. */
  hstsMaxAge: number;
}

export function applyResponsePasses(
  headers: HeaderMap,
  backendName: string,
  httpVersion: string,
  ctx: RequestContext | undefined,
  options: ResponsePassOptions,
  extra?: Record<string, string | string[]>,
  /** The caller owns `headers` and they may be amended in place (no copy). */
  inPlace = false,
): HeaderMap {
  let out = headers;
  if (!inPlace) {
    // A plain copy loop: spreading then adding keys was measurably slower on the hot path.
    out = {};
    for (const k in headers) out[k] = headers[k]!;
  }
  out[lowerName(options.servedByHeader)] = backendName;
  const entry = viaEntry(httpVersion, options.viaName);
  const prior = out['via'];
  out['via'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${entry}` : entry;
  if (ctx) {
    out['x-request-id'] = ctx.id;
    if (options.hstsMaxAge > 0 && ctx.proto === 'https') out['strict-transport-security'] = `max-age=${options.hstsMaxAge}`;
  }
  if (extra) for (const k in extra) out[k.toLowerCase()] = extra[k]!;
  return out;
}
