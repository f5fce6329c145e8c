// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: a proxy must drop
// them, and also every header the Connection header names (RFC 9110 §7.6.1 again), whichever
// direction the message goes.
import type { IncomingHttpHeaders } from 'node:http';

export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

export type HeaderMap = Record<string, string | string[]>;

/** Copies `headers` without hop-by-hop headers and without those named in Connection. */
export function withoutHopByHop(headers: IncomingHttpHeaders | HeaderMap): HeaderMap {
  const named = connectionTokens(headers['connection']);
  const out: HeaderMap = {};
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined) continue;
    const k = key.toLowerCase();
    if (HOP_BY_HOP.has(k) || (named !== undefined && named.has(k))) continue;
    out[k] = value;
  }
  return out;
}

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const set = new Set<string>();
  for (const part of Array.isArray(value) ? value : [value]) {
    for (const t of part.split(',')) {
      const tok = t.trim().toLowerCase();
      if (tok) set.add(tok);
    }
  }
  return set;
}
