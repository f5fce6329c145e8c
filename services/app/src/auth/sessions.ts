// Sessions in Redis: a random id in an httpOnly cookie, the user and CSRF token in Redis, and a
// per-user index so "log out everywhere" can end every session of that user.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { User } from './users.js';

export const SESSION_COOKIE = 'dramble_session';
const TTL_SECONDS = 7 * 24 * 3600;

export interface Session {
  id: string;
  user: User;
  csrf: string;
  createdAt: number;
}

const key = (id: string): string => `dramble:session:${id}`;
const userKey = (userId: number): string => `dramble:user-sessions:${userId}`;
const SITE_LAST_WRITE = 'dramble:last-write:site';

export class Sessions {
  constructor(private readonly redis: Redis) {}

  async create(user: User): Promise<Session> {
    const session: Session = { id: randomBytes(32).toString('base64url'), user, csrf: randomBytes(24).toString('base64url'), createdAt: Date.now() };
    await this.redis
      .multi()
      .set(key(session.id), JSON.stringify(session), 'EX', TTL_SECONDS)
      .sadd(userKey(user.id), session.id)
      .expire(userKey(user.id), TTL_SECONDS)
      .exec();
    return session;
  }

  async get(id: string): Promise<Session | null> {
    if (!/^[\w-]{20,100}$/.test(id)) return null;
    const text = await this.redis.get(key(id));
    return text ? (JSON.parse(text) as Session) : null;
  }

  async destroy(session: Session): Promise<void> {
    await this.redis.multi().del(key(session.id)).srem(userKey(session.user.id), session.id).exec();
  }

  /** Ends every session of the user (on every device); returns how many there were. */
  async destroyAll(userId: number): Promise<number> {
    const ids = await this.redis.smembers(userKey(userId));
    const m = this.redis.multi();
    for (const id of ids) m.del(key(id));
    m.del(userKey(userId));
    await m.exec();
    return ids.length;
  }

  /**
   * Remembers the GTID of a content write, for the writer and for the whole site, so later reads
   * wait for a replica to reach it (read-your-writes) and no page is cached from before it.
   */
  async setLastWrite(userId: number, gtid: string | null): Promise<void> {
    const v = gtid ?? 'primary';
    await this.redis.multi().set(`dramble:last-write:${userId}`, v, 'EX', 300).set(SITE_LAST_WRITE, v, 'EX', 60).exec();
  }

  /** How fresh a read must be: after the site's (and the user's) last write. */
  async lastWrite(userId?: number): Promise<{ afterGtid?: string; primary?: boolean } | undefined> {
    const [site, own] = userId === undefined ? [await this.redis.get(SITE_LAST_WRITE), null] : await this.redis.mget(SITE_LAST_WRITE, `dramble:last-write:${userId}`);
    if (site === 'primary' || own === 'primary') return { primary: true };
    // GTIDs of one primary's domain are ordered: the site's last write includes the user's.
    const gtid = site ?? own;
    return gtid ? { afterGtid: gtid } : undefined;
  }
}
