// Per-client rate limiting with one token bucket per client IP (off when the rate is 0).
import type { ServerResponse } from 'node:http';
import { refill, take, type Bucket } from './token-bucket.js';

export interface RateLimiterConfig {
  rateLimitRps: number;
  rateLimitBurst: number;
}

export interface RateLimiterOptions {
  now?: () => number;
  /** Buckets kept at most; full buckets are dropped first (a full bucket is the same as none). */
  maxClients?: number;
}

export interface RateDecision {
  ok: boolean;
  retryAfterSeconds: number;
}

export interface RateLimiter {
  readonly enabled: boolean;
  check(clientIp: string): RateDecision;
  /** Buckets currently held. */
  readonly clients: number;
}

export function createRateLimiter(config: RateLimiterConfig, options: RateLimiterOptions = {}): RateLimiter {
  const clock = options.now ?? Date.now;
  const maxClients = options.maxClients ?? 100_000;
  const rate = config.rateLimitRps;
  const burst = config.rateLimitBurst;
  const buckets = new Map<string, Bucket>();
  // Time for an empty bucket to fill: after that an idle client's bucket carries no information.
  const fillMs = (burst / Math.max(rate, 1e-9)) * 1000;
  let lastSweep = clock();

  function sweep(now: number): void {
    lastSweep = now;
    for (const [ip, b] of buckets) if (refill(b, now, rate, burst) >= burst) buckets.delete(ip);
    // Still too many (a flood of distinct addresses): forget the oldest, which only lets them burst again.
    for (const ip of buckets.keys()) {
      if (buckets.size <= maxClients) break;
      buckets.delete(ip);
    }
  }

  return {
    enabled: rate > 0,
    get clients() {
      return buckets.size;
    },
    check(clientIp) {
      if (rate <= 0) return { ok: true, retryAfterSeconds: 0 };
      const now = clock();
      if (buckets.size > maxClients || now - lastSweep > Math.max(fillMs, 10_000)) sweep(now);
      const r = take(buckets.get(clientIp), now, rate, burst);
      buckets.delete(clientIp); // re-insert: Map order then tracks recency for the sweep above
      buckets.set(clientIp, r.bucket);
      return { ok: r.ok, retryAfterSeconds: r.retryAfterSeconds };
    },
  };
}

/** The 429 answer (RFC 6585 §4) with Retry-After, in JSON or plain text by Accept. */
export function writeTooManyRequests(res: ServerResponse, retryAfterSeconds: number, accept?: string): void {
  const json = accept !== undefined && accept.includes('json');
  const body = json ? JSON.stringify({ error: 'too many requests', retryAfterSeconds }) : `Too many requests; retry in ${retryAfterSeconds} s.\n`;
  res.writeHead(429, {
    'content-type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
    'retry-after': String(retryAfterSeconds),
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
