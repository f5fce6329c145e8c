// Which way a lookup goes (RFC 9111 §4, §5.2.1): serve the stored entry, serve it stale while a
// background refresh runs, revalidate it with the origin, fetch (no entry), or answer 504
// (only-if-cached). Pure: the entry's lifetimes, the request's directives and the clock.
import { NO_CACHE_CONTROL, parseCacheControl, type CacheControl } from './cache-control.js';
import type { Lifetimes } from './cacheability.js';

type Headers = Record<string, string | string[] | undefined>;

export type Decision =
  /** Fresh (or stale within the client's max-stale): answer from memory. */
  | 'hit'
  | 'stale-hit'
  /** Stale within stale-while-revalidate: answer from memory, refresh in the background. */
  | 'stale-refresh'
  /** Ask the origin (conditionally when the entry has validators); the entry stays the fallback. */
  | 'revalidate'
  | 'fetch'
  /** only-if-cached and nothing usable without the origin: 504 (§5.2.1.7). */
  | 'gateway-timeout';

/**
 * The request's Cache-Control, or Pragma: no-cache from HTTP/1.0 clients when there is no
 * Cache-Control (§5.4). The shared empty parse when there is neither: the hit path allocates nothing.
 */
export function requestDirectives(headers: Headers): Readonly<CacheControl> {
  const cc = headers['cache-control'];
  if (cc !== undefined) return parseCacheControl(cc);
  const pragma = headers['pragma'];
  if (pragma !== undefined && /(^|,)\s*no-cache\s*(,|$)/i.test(Array.isArray(pragma) ? pragma.join(',') : pragma)) return PRAGMA_NO_CACHE;
  return NO_CACHE_CONTROL;
}

const PRAGMA_NO_CACHE: Readonly<CacheControl> = Object.freeze({ ...NO_CACHE_CONTROL, noCache: true });

const valid = (v: number | undefined): v is number => v !== undefined && !Number.isNaN(v);

/** `sinceStoredMs`: how long ago the entry arrived. */
export function decide(entry: Lifetimes | undefined, rcc: Readonly<CacheControl>, sinceStoredMs: number): Decision {
  const way = choose(entry, rcc, sinceStoredMs);
  // only-if-cached: never contact the origin.
  if (rcc.onlyIfCached && (way === 'revalidate' || way === 'fetch')) return 'gateway-timeout';
  return way;
}

function choose(entry: Lifetimes | undefined, rcc: Readonly<CacheControl>, since: number): Decision {
  if (!entry) return 'fetch';
  if (entry.noCache || rcc.noCache) return 'revalidate';
  const ageMs = entry.ageMs + since;
  // max-age=0 asks for a response validated now, whatever its age in ms (§5.2.1.1).
  if (valid(rcc.maxAge) && (rcc.maxAge === 0 || ageMs > rcc.maxAge * 1000)) return 'revalidate';
  const remaining = entry.freshMs - since;
  if (remaining > 0) {
    if (valid(rcc.minFresh) && remaining < rcc.minFresh * 1000) return 'revalidate';
    return 'hit';
  }
  const staleness = -remaining;
  if (entry.staleWhileRevalidateMs > staleness) return 'stale-refresh';
  // The client's max-stale does not override the origin's must-revalidate (§5.2.2.2).
  if (!entry.mustRevalidate && valid(rcc.maxStale) && staleness <= rcc.maxStale * 1000) return 'stale-hit';
  return 'revalidate';
}

/** How long past freshness the client accepts a stale answer when the origin fails (RFC 5861 request stale-if-error, max-stale). */
export function requestStaleAllowanceMs(rcc: Readonly<CacheControl>): number {
  const sie = valid(rcc.staleIfError) ? rcc.staleIfError * 1000 : 0;
  const ms = valid(rcc.maxStale) ? rcc.maxStale * 1000 : 0;
  return Math.max(sie, ms);
}
