// Login rate limiting per client address and lockout per account after repeated failures, in Redis
// so every app instance counts the same attempts.
import type { Redis } from 'ioredis';

export interface LoginLimits {
  perIpPerMinute: number;
  failuresBeforeLockout: number;
  lockoutSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perIpPerMinute: 30, failuresBeforeLockout: 5, lockoutSeconds: 900 };

export type LoginVerdict = { ok: true } | { ok: false; reason: 'rate-limited' | 'locked'; retryAfterSeconds: number };

export class LoginLimiter {
  constructor(private readonly redis: Redis, private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {}

  /** Counts this attempt against the address and says whether it may proceed. */
  async check(ip: string, email: string): Promise<LoginVerdict> {
    const ipKey = `dramble:login:ip:${ip}`;
    const [[, n], [, ttl]] = (await this.redis.multi().incr(ipKey).expire(ipKey, 60, 'NX').ttl(ipKey).exec()) as [[null, number], [null, number], [null, number]];
    if (n > this.limits.perIpPerMinute) return { ok: false, reason: 'rate-limited', retryAfterSeconds: Math.max(1, ttl) };
    const failKey = `dramble:login:fail:${email}`;
    const [fails, failTtl] = await Promise.all([this.redis.get(failKey), this.redis.ttl(failKey)]);
    if (Number(fails ?? 0) >= this.limits.failuresBeforeLockout) return { ok: false, reason: 'locked', retryAfterSeconds: Math.max(1, failTtl) };
    return { ok: true };
  }

  async failed(email: string): Promise<void> {
    const failKey = `dramble:login:fail:${email}`;
    await this.redis.multi().incr(failKey).expire(failKey, this.limits.lockoutSeconds).exec();
  }

  async succeeded(email: string): Promise<void> {
    await this.redis.del(`dramble:login:fail:${email}`);
  }
}
