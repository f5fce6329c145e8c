// Rendered anonymous pages in Redis, indexed by cache tag so an edit removes exactly the pages it
// affects. Every Redis failure is a miss: the site keeps working from MySQL without the cache.
//
// The cache shares Redis with sessions and login-limiter counters, so it must never be what fills
// Redis up: it holds at most maxEntries pages of at most maxEntryBytes each (an index sorted by
// write time drops the oldest beyond the cap), and its keys are paths, never Host values. Redis
// itself runs with maxmemory-policy noeviction (k8s/base/redis.yaml): under volatile-lru, which
// evicts any key with a TTL, a full Redis would drop sessions and limiter counts as readily as
// pages; with noeviction a full Redis refuses writes instead, which the page cache treats as a
// miss, while every session and counter stays.
import type { Redis } from 'ioredis';
import type { Logger } from '@dramble/lib';

export interface CachedPage {
  status: number;
  type: string;
  /** Bytes straight from Redis on a hit (sent as they are), a string when just rendered. */
  body: string | Buffer;
  tags: string[];
  etag: string;
}

// One value per page, "status\ntype\ntags\netag\nbody": a hit is sent without decoding the body.
function encode(p: CachedPage): Buffer {
  return Buffer.concat([Buffer.from(`${p.status}\n${p.type}\n${p.tags.join(',')}\n${p.etag}\n`), typeof p.body === 'string' ? Buffer.from(p.body) : p.body]);
}

function decode(buf: Buffer): CachedPage | undefined {
  const cut: number[] = [];
  for (let i = 0, at = -1; i < 4; i++) {
    at = buf.indexOf(10, at + 1);
    if (at < 0) return undefined;
    cut.push(at);
  }
  const [a, b, c, d] = cut as [number, number, number, number];
  const tags = buf.toString('utf8', b + 1, c);
  return {
    status: Number(buf.toString('latin1', 0, a)),
    type: buf.toString('latin1', a + 1, b),
    tags: tags ? tags.split(',') : [],
    etag: buf.toString('latin1', c + 1, d),
    body: buf.subarray(d + 1),
  };
}

const pageKey = (key: string): string => `dramble:page:${key}`;
const tagKey = (tag: string): string => `dramble:page-tag:${tag}`;
/** Every cached page's key, scored by the time it was written (ms). */
export const PAGE_INDEX_KEY = 'dramble:page-index';

export interface PageCacheLimits {
  ttlSeconds: number;
  maxEntries: number;
  maxEntryBytes: number;
}

export class PageCache {
  private readonly ttlSeconds: number;

  constructor(
    private readonly redis: Redis,
    private readonly limits: PageCacheLimits,
    private readonly logger: Logger,
  ) {
    this.ttlSeconds = limits.ttlSeconds;
  }

  get enabled(): boolean {
    return this.ttlSeconds > 0;
  }

  async get(key: string): Promise<CachedPage | undefined> {
    if (!this.enabled) return undefined;
    try {
      const buf = await this.redis.getBuffer(pageKey(key));
      return buf ? decode(buf) : undefined;
    } catch (err) {
      this.logger.debug({ err: String(err) }, 'page cache read failed');
      return undefined;
    }
  }

  async set(key: string, page: CachedPage): Promise<void> {
    if (!this.enabled) return;
    const value = encode(page);
    if (value.length > this.limits.maxEntryBytes) return;
    try {
      const now = Date.now();
      const m = this.redis
        .multi()
        .set(pageKey(key), value, 'EX', this.ttlSeconds)
        .zadd(PAGE_INDEX_KEY, now, key)
        .zremrangebyscore(PAGE_INDEX_KEY, '-inf', now - this.ttlSeconds * 1000) // expired by now
        .expire(PAGE_INDEX_KEY, this.ttlSeconds * 2 + 60)
        .zcard(PAGE_INDEX_KEY);
      for (const t of page.tags) m.sadd(tagKey(t), key).expire(tagKey(t), this.ttlSeconds * 2 + 60);
      const res = (await m.exec()) ?? [];
      const count = Number(res[4]?.[1] ?? 0);
      if (count > this.limits.maxEntries) {
        // Instances writing at once may each trim; the cap can be passed by a few entries, not grow.
        const oldest = (await this.redis.zpopmin(PAGE_INDEX_KEY, count - this.limits.maxEntries)).filter((_, i) => i % 2 === 0);
        if (oldest.length) await this.redis.del(...oldest.map(pageKey));
      }
    } catch (err) {
      this.logger.debug({ err: String(err) }, 'page cache write failed');
    }
  }

  /** Removes every cached page carrying one of the tags; returns the keys removed. */
  async invalidate(tags: string[]): Promise<string[]> {
    if (tags.length === 0) return [];
    const read = this.redis.multi();
    for (const t of tags) read.smembers(tagKey(t));
    const res = (await read.exec()) ?? [];
    const keys = [...new Set(res.flatMap(([, v]) => (Array.isArray(v) ? (v as string[]) : [])))];
    const del = this.redis.multi();
    for (const k of keys) del.del(pageKey(k));
    if (keys.length) del.zrem(PAGE_INDEX_KEY, ...keys);
    for (const t of tags) del.del(tagKey(t));
    await del.exec();
    return keys;
  }
}
