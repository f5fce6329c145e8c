// Leader election on a Redis key, for running outside Kubernetes: SET NX PX takes the lock, and renewal and
// release are Lua compare-and-set scripts so a manager never extends or deletes a lock someone else took
// after its own had expired.
import type { Logger } from '@dramble/lib';
import { createElectionLoop, type LockBackend } from './election-loop.js';
import type { LeaderElection } from './types.js';

/** The commands the lock needs (an ioredis client has them; tests may pass a narrower stand-in). */
export interface LockRedis {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<'OK' | null>;
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
}

export interface RedisLockElectionOptions {
  redis: LockRedis;
  /** Lock key, e.g. "dramble:db-manager:leader". */
  key: string;
  identity: string;
  /** Lifetime of the lock; a holder that stops renewing loses it after this long. */
  ttlMs: number;
  renewIntervalMs: number;
  /** How often a standby tries to take the lock (default renewIntervalMs). */
  retryIntervalMs?: number;
  /** The leader steps down when it could not renew for this long (default two thirds of the ttl). */
  renewDeadlineMs?: number;
  logger: Logger;
}

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export function createRedisLockElection(opts: RedisLockElectionOptions): LeaderElection {
  const { redis, key, identity, ttlMs } = opts;
  const log = opts.logger.child({ component: 'redis-lock-election', key });
  let held = false;

  const backend: LockBackend = {
    async acquireOrRenew() {
      if (held) {
        const renewed = Number(await redis.eval(RENEW, 1, key, identity, String(ttlMs)));
        if (renewed === 1) return identity;
        held = false;
      }
      const set = await redis.set(key, identity, 'PX', ttlMs, 'NX');
      if (set === 'OK') {
        held = true;
        return identity;
      }
      const holder = await redis.get(key);
      // Our own identity still in the key (e.g. we restarted within the ttl): renew it as ours.
      if (holder === identity) {
        held = Number(await redis.eval(RENEW, 1, key, identity, String(ttlMs))) === 1;
        return held ? identity : null;
      }
      return holder;
    },
    async release() {
      held = false;
      const deleted = Number(await redis.eval(RELEASE, 1, key, identity));
      if (deleted === 1) log.info('released the lock');
    },
  };

  return createElectionLoop({
    identity,
    backend,
    renewIntervalMs: opts.renewIntervalMs,
    retryIntervalMs: opts.retryIntervalMs,
    renewDeadlineMs: opts.renewDeadlineMs ?? Math.floor((ttlMs * 2) / 3),
    logger: log,
  });
}
