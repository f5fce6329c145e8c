// The headers sent to a backend, built in one pass over the client's raw header list (names keep
// their spelling and repeated fields stay separate, as the client sent them):
// - hop-by-hop headers and every header the client's Connection names are dropped first, so
//   nothing added below can be stripped by a client's Connection header;
// - X-Forwarded-For: kept only from a trusted proxy, then the peer appended, so the right-most
//   entry is always our real peer;
// - X-Forwarded-Proto/-Host and Forwarded: a trusted proxy's kept, otherwise what this
//   connection saw (Forwarded dropped);
// - X-Request-Id: the context's (a valid incoming one was adopted there);
// - Via (RFC 9110 §7.6.3): our entry appended, so loops and the proxy chain are visible.
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from './context.js';
import { HOP_BY_HOP, connectionTokens, viaEntry } from './hop-by-hop.js';

export interface RequestPassOptions {
  viaName: string;
  /** Lower-case names left out (e.g. content-length when a HEAD is turned into a GET). */
  drop?: readonly string[] | undefined;
  /** Set after the passes (lower-case names), replacing any field of the same name. */
  extra?: Record<string, string> | undefined;
}

/** Fields the passes below write themselves. */
const REWRITTEN = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-request-id', 'via', 'expect']);

/** The outgoing header list, `[name, value, name, value, ...]` (undici's and Node's flat form). */
export function outgoingHeaderList(req: IncomingMessage, ctx: RequestContext, options: RequestPassOptions): string[] {
  const raw = req.rawHeaders;
  const connection = ctx.headers.connection;
  // "keep-alive" and "close" (what clients send) name no other header: no token set to build.
  const named = connection === undefined || connection === 'keep-alive' || connection === 'close' ? undefined : connectionTokens(connection);
  const out: string[] = [];
  let xff: string | undefined;
  let proto: string | undefined;
  let host: string | undefined;
  let forwarded: string | undefined;
  let via: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== undefined && named.has(lower))) continue;
    if (options.drop !== undefined && options.drop.includes(lower)) continue;
    if (options.extra !== undefined && lower in options.extra) continue;
    if (REWRITTEN.has(lower)) {
      const value = raw[i + 1]!;
      if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`;
      else if (lower === 'x-forwarded-proto') proto ??= value;
      else if (lower === 'x-forwarded-host') host ??= value;
      else if (lower === 'forwarded') forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`;
      else if (lower === 'via') via = via === undefined ? value : `${via}, ${value}`;
      // expect: Node already answered 100-continue to the client; x-request-id: from the context.
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  const trusted = ctx.trustedPeer;
  out.push('x-forwarded-for', trusted && xff ? `${xff}, ${ctx.peer}` : ctx.peer);
  out.push('x-forwarded-proto', trusted && proto !== undefined ? proto : ctx.proto);
  const fwdHost = trusted && host !== undefined ? host : ctx.headers.host;
  if (fwdHost !== undefined) out.push('x-forwarded-host', fwdHost);
  if (trusted && forwarded !== undefined) out.push('forwarded', forwarded);
  out.push('x-request-id', ctx.id);
  const entry = viaEntry(req.httpVersion, options.viaName);
  out.push('via', via ? `${via}, ${entry}` : entry);
  if (options.extra !== undefined) for (const k in options.extra) out.push(k.toLowerCase(), options.extra[k]!);
  return out;
}

/** The same headers as an object (lower-case names; repeated fields joined), for http.request. */
export function outgoingHeaders(req: IncomingMessage, ctx: RequestContext, options: RequestPassOptions): Record<string, string | string[]> {
  const list = outgoingHeaderList(req, ctx, options);
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < list.length; i += 2) {
    const k = list[i]!.toLowerCase();
    const prior = out[k];
    const value = list[i + 1]!;
    if (prior === undefined) out[k] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else out[k] = [prior, value];
  }
  return out;
}
