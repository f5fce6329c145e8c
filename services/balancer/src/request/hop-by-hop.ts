// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: a proxy must drop
// them, and also every header the Connection header names (RFC 9110 §7.6.1 again), whichever
// direction the message goes.
import { headerName, headerValue } from './header-strings.js';

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

/**
 * Names a Connection header may not take away: without Host the backend routes by its own
 * default, and without Content-Length the body's framing changes. Such tokens are ignored.
 */
const NEVER_HOP_BY_HOP = new Set(['host', 'content-length', 'transfer-encoding']);

export type HeaderMap = Record<string, string | string[]>;

export function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const set = new Set<string>();
  for (const part of Array.isArray(value) ? value : [value]) {
    for (const t of part.split(',')) {
      const tok = t.trim().toLowerCase();
      if (tok && !NEVER_HOP_BY_HOP.has(tok)) set.add(tok);
    }
  }
  return set;
}

/**
 * A backend's raw response headers (undici's name/value Buffer list) as a header map without
 * hop-by-hop headers: one pass, no intermediate object. Repeated fields become arrays.
 */
export function responseHeaders(raw: readonly Buffer[]): HeaderMap {
  const out: HeaderMap = {};
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = headerName(raw[i]!);
    const value = headerValue(raw[i + 1]!);
    if (HOP_BY_HOP.has(name)) {
      if (name === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
      continue;
    }
    const prior = out[name];
    if (prior === undefined) out[name] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else out[name] = [prior, value];
  }
  // "keep-alive" and "close" name no other header: the usual values need no parsing.
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') for (const t of connectionTokens(connection) ?? []) delete out[t];
  return out;
}

let viaMemo = { version: '', name: '', entry: '' };

/** Our Via entry (RFC 9110 §7.6.3), `<http version> <name>`; the last one is kept, not rebuilt per message. */
export function viaEntry(httpVersion: string, viaName: string): string {
  const m = viaMemo;
  if (m.version === httpVersion && m.name === viaName) return m.entry;
  viaMemo = { version: httpVersion, name: viaName, entry: `${httpVersion} ${viaName}` };
  return viaMemo.entry;
}

let lowerMemo = { name: '', lower: '' };

/** A configured header name in lower case; the last one is kept, not lower-cased per message. */
export function lowerName(name: string): string {
  if (lowerMemo.name === name) return lowerMemo.lower;
  lowerMemo = { name, lower: name.toLowerCase() };
  return lowerMemo.lower;
}
