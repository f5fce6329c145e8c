// Login rate limiting in Redis, so every app instance counts the same attempts: a cap on attempts
// per client address (any accounts), and an exponentially growing wait per account AND address
// after repeated failures. The wait is per pair so that a stranger guessing the editor's password
// from one address makes only that address wait; the editor, elsewhere, still logs in.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Redis } from 'ioredis';

export interface LoginLimits {
  /** Attempts one address may make per minute, whatever the accounts. */
  perIpPerMinute: number;
  /** Failures of one account from one address before that pair has to wait. */
  freeFailures: number;
  /** The wait after the last free failure, doubling with each further failure. */
  firstDelaySeconds: number;
  /** The longest wait. */
  maxDelaySeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perIpPerMinute: 30, freeFailures: 5, firstDelaySeconds: 2, maxDelaySeconds: 900 };

export type LoginVerdict = { ok: true } | { ok: false; reason: 'rate-limited' | 'locked'; retryAfterSeconds: number };

/** Seconds the pair must wait after its `failures`-th failure (pure). */
export function delayAfter(failures: number, limits: LoginLimits): number {
  if (failures < limits.freeFailures) return 0;
  const doublings = Math.min(failures - limits.freeFailures, 30);
  return Math.min(limits.maxDelaySeconds, limits.firstDelaySeconds * 2 ** doublings);
}

// Keys are bounded in size whatever a client sends: the email is hashed, and so is an "address"
// that is not an IP (the trusted X-Forwarded-For entry is taken as it is written).
const digest = (v: string): string => createHash('sha256').update(v).digest('base64url').slice(0, 22);
const ipPart = (ip: string): string => (isIP(ip) ? ip : `h:${digest(ip)}`);
const ipKey = (ip: string): string => `dramble:login:ip:${ipPart(ip)}`;
const pairKey = (ip: string, email: string): string => `dramble:login:fail:${digest(email)}:${ipPart(ip)}`;

export class LoginLimiter {
  constructor(private readonly redis: Redis, private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {}

  /** Counts this attempt against the address and says whether it may proceed. */
  async check(ip: string, email: string): Promise<LoginVerdict> {
    const k = ipKey(ip);
    const [[, n], [, ttl]] = (await this.redis.multi().incr(k).expire(k, 60, 'NX').ttl(k).exec()) as [[null, number], [null, number], [null, number]];
    if (n > this.limits.perIpPerMinute) return { ok: false, reason: 'rate-limited', retryAfterSeconds: Math.max(1, ttl) };
    const until = Number((await this.redis.hget(pairKey(ip, email), 'until')) ?? 0);
    const wait = until - Date.now();
    if (wait > 0) return { ok: false, reason: 'locked', retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
    return { ok: true };
  }

  async failed(ip: string, email: string): Promise<void> {
    const k = pairKey(ip, email);
    // The count outlives the longest wait, so waiting it out once does not reset the doubling.
    const [[, n]] = (await this.redis.multi().hincrby(k, 'n', 1).expire(k, this.limits.maxDelaySeconds * 2).exec()) as [[null, number], [null, number]];
    const delay = delayAfter(n, this.limits);
    if (delay > 0) await this.redis.hset(k, 'until', String(Date.now() + delay * 1000));
  }

  async succeeded(ip: string, email: string): Promise<void> {
    await this.redis.del(pairKey(ip, email));
  }
}
