// Freshness of a stored response (RFC 9111 §4.2): its lifetime from s-maxage, max-age, Expires or
// a heuristic, and its age from Age, Date and the time the exchange took. Pure functions.
import { deltaSeconds, type CacheControl } from './cache-control.js';
import { firstValue, parseHttpDate } from './http-date.js';

type Headers = Record<string, string | string[] | undefined>;

/**
 * Status codes RFC 9110 §15.1 defines as heuristically cacheable: without explicit freshness
 * they may be given a heuristic lifetime (§4.2.2).
 */
export const HEURISTIC_STATUS: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/** Heuristic lifetimes are this fraction of the time since Last-Modified (§4.2.2's typical 10%). */
const HEURISTIC_FRACTION = 0.1;

export interface Lifetime {
  /** Freshness lifetime in ms (0 = stale on arrival). */
  ms: number;
  heuristic: boolean;
}

/**
 * The freshness lifetime (§4.2.1): s-maxage, then max-age, then Expires minus Date; an invalid
 * value of the one that applies makes the response stale (0). Without any, a heuristic for the
 * status codes that allow it (or `public`): 10% of the time since Last-Modified, at most
 * `heuristicMaxSeconds`. undefined when the response gives no freshness information at all.
 */
export function freshnessLifetime(status: number, headers: Headers, cc: CacheControl, responseTime: number, heuristicMaxSeconds: number): Lifetime | undefined {
  const explicit = cc.sMaxage ?? cc.maxAge;
  if (explicit !== undefined) return { ms: Number.isNaN(explicit) ? 0 : explicit * 1000, heuristic: false };
  const expires = headers['expires'];
  if (expires !== undefined) {
    const at = parseHttpDate(firstValue(expires));
    if (Number.isNaN(at)) return { ms: 0, heuristic: false };
    return { ms: Math.max(0, at - dateOf(headers, responseTime)), heuristic: false };
  }
  if (heuristicMaxSeconds <= 0 || cc.noCache) return undefined;
  if (!HEURISTIC_STATUS.has(status) && !cc.public) return undefined;
  const lastModified = parseHttpDate(firstValue(headers['last-modified']));
  if (Number.isNaN(lastModified)) return undefined;
  const since = dateOf(headers, responseTime) - lastModified;
  if (since <= 0) return undefined;
  return { ms: Math.min(Math.floor(since * HEURISTIC_FRACTION), heuristicMaxSeconds * 1000), heuristic: true };
}

/** The origin's Date, or when we received the response if it has none (or an invalid one). */
function dateOf(headers: Headers, responseTime: number): number {
  const d = parseHttpDate(firstValue(headers['date']));
  return Number.isNaN(d) ? responseTime : d;
}

/**
 * Age (§5.1): delta-seconds. Several values (a list, or repeated lines): the first one counts.
 * Anything that is not a non-negative integer is ignored (0).
 */
export function parseAge(value: string | string[] | undefined): number {
  if (value === undefined) return 0;
  let v = Array.isArray(value) ? value[0] ?? '' : value;
  const comma = v.indexOf(',');
  if (comma >= 0) v = v.slice(0, comma);
  v = v.trim();
  const age = deltaSeconds(v);
  return Number.isNaN(age) ? 0 : age;
}

/**
 * corrected_initial_age (§4.2.3): the larger of the apparent age (our receive time minus Date)
 * and Age plus the time the exchange took. Date has one-second resolution (a response sent at
 * x.999 s says x), so the first second of apparent age is rounding, not age, and is not counted:
 * a response that just left the origin must not arrive a second old.
 */
export function initialAge(headers: Headers, requestTime: number, responseTime: number): number {
  const date = parseHttpDate(firstValue(headers['date']));
  const apparent = Number.isNaN(date) ? 0 : Math.max(0, responseTime - date - 999);
  const corrected = parseAge(headers['age']) * 1000 + Math.max(0, responseTime - requestTime);
  return Math.max(apparent, corrected);
}
