// Cache-Status (RFC 9211): what this cache did with the request, for people and tools that
// debug it. X-Cache stays alongside for the dashboard.

/** The name this cache reports itself by. */
export const CACHE_NAME = 'dramble';

/** A hit: ttl is the remaining freshness in seconds (negative when served stale). */
export function cacheStatusHit(entry: { freshMs: number }, sinceStoredMs: number): string {
  return `${CACHE_NAME}; hit; ttl=${Math.floor((entry.freshMs - sinceStoredMs) / 1000)}`;
}

/**
 * Forwarded to the origin: `fwd` says why (uri-miss, vary-miss, stale, request, method, bypass),
 * `params` what came of it (fwd-status=304, stored, collapsed, detail=...).
 */
export function cacheStatusFwd(fwd: string, params: string): string {
  return `${CACHE_NAME}; fwd=${fwd}; ${params}`;
}
