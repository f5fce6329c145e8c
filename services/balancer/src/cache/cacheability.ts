// Pure decisions of the edge cache: may this request use the cache, may this response be stored,
// without which fields, and for how long is it fresh / usable stale (RFC 9111 §3, §4.2; RFC 5861;
// RFC 9213). The fill path and the 304 update both ask storability() here, so a response is
// judged by one rule whichever way it arrived.
import { forEachDirective, parseCacheControl, type CacheControl } from './cache-control.js';
import { freshnessLifetime, initialAge } from './freshness.js';

type Headers = Record<string, string | string[] | undefined>;

export interface RequestLike {
  method?: string | undefined;
  headers: Headers;
}

export type RequestVerdict = { cacheable: true } | { cacheable: false; reason: 'method' | 'authorization' | 'session-cookie' };

/**
 * Only GET and HEAD use the cache. A request with credentials (Authorization or a configured
 * session cookie) always goes to a backend: its response may be personalised even when the
 * backend forgot to say so.
 */
export function requestVerdict(req: RequestLike, sessionCookies: readonly string[]): RequestVerdict {
  if (req.method !== 'GET' && req.method !== 'HEAD') return { cacheable: false, reason: 'method' };
  if (req.headers['authorization'] !== undefined) return { cacheable: false, reason: 'authorization' };
  if (sessionCookies.length > 0 && hasCookie(req.headers['cookie'], sessionCookies)) return { cacheable: false, reason: 'session-cookie' };
  return { cacheable: true };
}

/** Methods whose non-error answers invalidate what the cache holds for the URI (RFC 9111 §4.4). */
export function isUnsafe(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && method !== 'TRACE';
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
 * Final status codes this cache understands and stores when the response allows it (RFC 9111 §3;
 * 206 and 304 are never stored as a whole response).
 */
const STORABLE_STATUS = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 451, 501]);

export interface ResponseLike {
  status: number;
  headers: Headers;
}

export interface Lifetimes {
  /** Freshness lifetime minus the age the response already had (RFC 9111 §4.2.1, §4.2.3); may be negative. */
  freshMs: number;
  /** corrected_initial_age: the age the response had when it arrived. */
  ageMs: number;
  /** After freshness ends: served stale while one background refresh runs. */
  staleWhileRevalidateMs: number;
  /** After freshness ends: served stale when the backends fail or answer 5xx. */
  staleIfErrorMs: number;
  /** Unqualified no-cache: every use is revalidated first. */
  noCache: boolean;
  /** must-revalidate, proxy-revalidate or s-maxage (§5.2.2.10): never served stale without the origin's explicit stale-* permission. */
  mustRevalidate: boolean;
}

export type ResponseVerdict =
  | ({ storable: true; varyNames: string[]; /** Fields not to store (private=, no-cache= field names). */ omit: string[] } & Lifetimes)
  | { storable: false; reason: 'status' | 'no-store' | 'private' | 'no-cache' | 'set-cookie' | 'vary-star' | 'no-max-age' | 'expired' };

export interface ResponsePolicy {
  /** stale-if-error applied when the response gives none (nginx's proxy_cache_use_stale). */
  defaultStaleIfErrorSeconds: number;
  /** Upper bound of a heuristic lifetime (10% of the time since Last-Modified); 0 turns heuristics off. */
  heuristicMaxSeconds: number;
}

/** When the request was sent and the response arrived (ms); both default to 0 (no delay). */
export interface Exchange {
  requestTime: number;
  responseTime: number;
}

const NO_EXCHANGE: Exchange = { requestTime: 0, responseTime: 0 };

/**
 * The directives this cache obeys: CDN-Cache-Control when the origin sent a valid one (RFC 9213
 * §2.1: it then replaces Cache-Control for us, so the origin can give the edge a different
 * lifetime than browsers), otherwise Cache-Control.
 */
export function effectiveCacheControl(headers: Headers): CacheControl {
  const cdn = headers['cdn-cache-control'];
  if (cdn !== undefined && hasDirective(cdn)) return parseCacheControl(cdn);
  return parseCacheControl(headers['cache-control']);
}

function hasDirective(value: string | string[]): boolean {
  let any = false;
  forEachDirective(Array.isArray(value) ? value.join(',') : value, () => (any = true));
  return any;
}

export function responseVerdict(res: ResponseLike, policy: ResponsePolicy, exchange: Exchange = NO_EXCHANGE): ResponseVerdict {
  if (!STORABLE_STATUS.has(res.status)) return { storable: false, reason: 'status' };
  const cc = effectiveCacheControl(res.headers);
  // must-understand (§5.2.2.3): a cache that understands the status code may ignore no-store.
  if (cc.noStore && !cc.mustUnderstand) return { storable: false, reason: 'no-store' };
  if (cc.private) return { storable: false, reason: 'private' };
  const omit = [...(cc.privateFields ?? []), ...(cc.noCacheFields ?? [])];
  // A shared cache never hands one client's cookie to another: unless the origin lets us drop it
  // (private="set-cookie"), a response that sets one is not stored.
  if (res.headers['set-cookie'] !== undefined && !omit.includes('set-cookie')) return { storable: false, reason: 'set-cookie' };
  let varyNames = parseVary(res.headers['vary']);
  if (varyNames.includes('*')) return { storable: false, reason: 'vary-star' };
  // A backend that compressed by Accept-Encoding but forgot to say so must not get its gzip
  // body served to a client that cannot decode it: key such entries by Accept-Encoding anyway.
  if (res.headers['content-encoding'] !== undefined && !varyNames.includes('accept-encoding')) varyNames = [...varyNames, 'accept-encoding'].sort();
  const validators = res.headers['etag'] !== undefined || res.headers['last-modified'] !== undefined;
  // Storing what must be revalidated on every use pays only when it can be revalidated cheaply.
  if (cc.noCache && !validators) return { storable: false, reason: 'no-cache' };
  const lifetime = freshnessLifetime(res.status, res.headers, cc, exchange.responseTime, policy.heuristicMaxSeconds);
  const explicitStale = validDelta(cc.staleIfError) || validDelta(cc.staleWhileRevalidate);
  if (lifetime === undefined && !validators && !explicitStale) return { storable: false, reason: 'no-max-age' };
  const ageMs = initialAge(res.headers, exchange.requestTime, exchange.responseTime);
  const freshMs = (lifetime?.ms ?? 0) - ageMs;
  const mustRevalidate = cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxage !== undefined;
  // Explicit stale-* directives are the origin's own permission (RFC 5861); the configured default
  // is ours and yields to must-revalidate, proxy-revalidate, s-maxage and no-cache (RFC 9111 §4.2.4).
  const staleIfErrorMs = (validDelta(cc.staleIfError) ? cc.staleIfError! : mustRevalidate || cc.noCache ? 0 : policy.defaultStaleIfErrorSeconds) * 1000;
  const staleWhileRevalidateMs = validDelta(cc.staleWhileRevalidate) ? cc.staleWhileRevalidate! * 1000 : 0;
  // Already stale on arrival (max-age=0, or an Age beyond the lifetime) and neither revalidatable
  // nor explicitly allowed stale: nothing to gain from keeping it.
  if (freshMs <= 0 && !validators && !explicitStale) return { storable: false, reason: 'expired' };
  return { storable: true, varyNames, omit, freshMs, ageMs, staleWhileRevalidateMs, staleIfErrorMs, noCache: cc.noCache, mustRevalidate };
}

function validDelta(v: number | undefined): boolean {
  return v !== undefined && !Number.isNaN(v) && v > 0;
}

/**
 * Vary (RFC 9110 §12.5.5): a list of field names, case-insensitive, any whitespace; `*`, or an
 * element that is not a field name, means no stored response can ever be selected ('*').
 */
export function parseVary(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  const names = new Set<string>();
  for (const part of text.split(',')) {
    const n = part.trim().toLowerCase();
    if (n.length === 0) continue;
    names.add(n === '*' || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(n) ? '*' : n);
  }
  return [...names].sort();
}

export type Freshness = 'fresh' | 'stale-while-revalidate' | 'stale';

/** Where an entry stands `sinceStoredMs` after it was stored. */
export function freshness(l: Pick<Lifetimes, 'freshMs' | 'staleWhileRevalidateMs'>, sinceStoredMs: number): Freshness {
  if (sinceStoredMs < l.freshMs) return 'fresh';
  if (sinceStoredMs < l.freshMs + l.staleWhileRevalidateMs) return 'stale-while-revalidate';
  return 'stale';
}

/** True while a stale entry may stand in for a failed or 5xx backend answer. */
export function usableOnError(l: Pick<Lifetimes, 'freshMs' | 'staleWhileRevalidateMs' | 'staleIfErrorMs'>, sinceStoredMs: number, requestAllowsMs = 0): boolean {
  return sinceStoredMs < l.freshMs + Math.max(l.staleIfErrorMs, l.staleWhileRevalidateMs, requestAllowsMs);
}
