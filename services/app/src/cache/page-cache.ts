// Rendered anonymous pages in Redis, indexed by cache tag so an edit removes exactly the pages it
// affects. Every Redis failure is a miss: the site keeps working from MySQL without the cache.
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

export class PageCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {}

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
    try {
      const m = this.redis.multi().set(pageKey(key), encode(page), 'EX', this.ttlSeconds);
      for (const t of page.tags) m.sadd(tagKey(t), key).expire(tagKey(t), this.ttlSeconds * 2 + 60);
      await m.exec();
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
    for (const t of tags) del.del(tagKey(t));
    await del.exec();
    return keys;
  }
}
