// Pure decisions of the edge cache: may this request use the cache, may this response be stored,
// and for how long is it fresh / usable stale (RFC 9111 §3, §4.2; RFC 5861).
import { parseCacheControl } from './cache-control.js';

type Headers = Record<string, string | string[] | undefined>;

export interface RequestLike {
  method?: string | undefined;
  headers: Headers;
}

export type RequestVerdict = { cacheable: true } | { cacheable: false; reason: 'method' | 'authorization' | 'session-cookie' };

/**
 * Only GET and HEAD use the cache. A request with credentials (Authorization or a configured
 * session cookie) always goes to a backend: its response may be personalised even when the
 * backend forgot to say so. Request Cache-Control is ignored on purpose (like nginx): any
 * client could otherwise force every request through to the backends.
 */
export function requestVerdict(req: RequestLike, sessionCookies: readonly string[]): RequestVerdict {
  if (req.method !== 'GET' && req.method !== 'HEAD') return { cacheable: false, reason: 'method' };
  if (req.headers['authorization'] !== undefined) return { cacheable: false, reason: 'authorization' };
  if (sessionCookies.length > 0 && hasCookie(req.headers['cookie'], sessionCookies)) return { cacheable: false, reason: 'session-cookie' };
  return { cacheable: true };
}

export function cookieNames(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(';') : header;
  return text
    .split(';')
    .map((p) => p.slice(0, p.indexOf('=') < 0 ? p.length : p.indexOf('=')).trim())
    .filter((n) => n.length > 0);
}

function hasCookie(header: string | string[] | undefined, names: readonly string[]): boolean {
  return cookieNames(header).some((n) => names.includes(n));
}

/**
 * Status codes this cache understands well enough to store when the response says how long
 * it is fresh (RFC 9111 §3: final, understood; 206 and 304 are never stored here).
 */
const STORABLE_STATUS = new Set([200, 203, 204, 300, 301, 302, 307, 308, 404, 405, 410, 414, 451, 501]);

export interface ResponseLike {
  status: number;
  headers: Headers;
}

export interface Lifetimes {
  /** Freshness lifetime minus the age the response already had (RFC 9111 §4.2.1, §4.2.3). */
  freshMs: number;
  /** Initial age from the backend's Age header. */
  ageMs: number;
  /** After freshness ends: served stale while one background refresh runs. */
  staleWhileRevalidateMs: number;
  /** After freshness ends: served stale when the backends fail or answer 5xx. */
  staleIfErrorMs: number;
}

export type ResponseVerdict =
  | ({ storable: true; varyNames: string[] } & Lifetimes)
  | { storable: false; reason: 'status' | 'no-store' | 'private' | 'no-cache' | 'set-cookie' | 'vary-star' | 'no-max-age' | 'expired' };

export interface ResponsePolicy {
  /** stale-if-error applied when the response gives none (nginx's proxy_cache_use_stale). */
  defaultStaleIfErrorSeconds: number;
}

export function responseVerdict(res: ResponseLike, policy: ResponsePolicy): ResponseVerdict {
  if (!STORABLE_STATUS.has(res.status)) return { storable: false, reason: 'status' };
  const cc = parseCacheControl(res.headers['cache-control']);
  if (cc.noStore) return { storable: false, reason: 'no-store' };
  if (cc.private) return { storable: false, reason: 'private' };
  // no-cache would need a revalidation on every use; for a micro-cache that is a pass.
  if (cc.noCache) return { storable: false, reason: 'no-cache' };
  // A shared cache must never hand one client's cookie to another.
  if (res.headers['set-cookie'] !== undefined) return { storable: false, reason: 'set-cookie' };
  let varyNames = parseVary(res.headers['vary']);
  if (varyNames.includes('*')) return { storable: false, reason: 'vary-star' };
  // A backend that compressed by Accept-Encoding but forgot to say so must not get its gzip
  // body served to a client that cannot decode it: key such entries by Accept-Encoding anyway.
  if (res.headers['content-encoding'] !== undefined && !varyNames.includes('accept-encoding')) varyNames = [...varyNames, 'accept-encoding'].sort();
  // Only explicit freshness: no heuristic caching of pages that did not ask for it.
  const lifetime = cc.sMaxage ?? cc.maxAge;
  if (lifetime === undefined) return { storable: false, reason: 'no-max-age' };
  const ageMs = parseAge(res.headers['age']) * 1000;
  const freshMs = lifetime * 1000 - ageMs;
  const revalidate = cc.mustRevalidate || cc.proxyRevalidate;
  // Explicit stale-* directives are the origin's own permission (RFC 5861); the configured default
  // is ours and yields to must-revalidate / proxy-revalidate (RFC 9111 §4.2.4).
  const staleIfErrorMs = (cc.staleIfError ?? (revalidate ? 0 : policy.defaultStaleIfErrorSeconds)) * 1000;
  const staleWhileRevalidateMs = (cc.staleWhileRevalidate ?? 0) * 1000;
  // Already stale on arrival (max-age=0, or an Age beyond the lifetime): kept only when the origin
  // explicitly allows stale use; like nginx, max-age=0 alone means "do not cache".
  if (freshMs <= 0 && !cc.staleIfError && !cc.staleWhileRevalidate) return { storable: false, reason: 'expired' };
  return { storable: true, varyNames, freshMs: Math.max(0, freshMs), ageMs, staleWhileRevalidateMs, staleIfErrorMs };
}

export function parseVary(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  const names = text
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n.length > 0);
  return [...new Set(names)].sort();
}

function parseAge(value: string | string[] | undefined): number {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && /^\s*\d+\s*$/.test(v) ? Number(v) : 0;
}

export type Freshness = 'fresh' | 'stale-while-revalidate' | 'stale';

/** Where an entry stands `sinceStoredMs` after it was stored. */
export function freshness(l: Lifetimes, sinceStoredMs: number): Freshness {
  if (sinceStoredMs < l.freshMs) return 'fresh';
  if (sinceStoredMs < l.freshMs + l.staleWhileRevalidateMs) return 'stale-while-revalidate';
  return 'stale';
}

/** True while a stale entry may stand in for a failed or 5xx backend answer. */
export function usableOnError(l: Lifetimes, sinceStoredMs: number): boolean {
  return sinceStoredMs < l.freshMs + Math.max(l.staleIfErrorMs, l.staleWhileRevalidateMs);
}
