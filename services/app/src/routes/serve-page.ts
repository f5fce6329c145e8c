// Serving a public page: from the Redis page cache for anonymous visitors, else rendered from MySQL;
// cacheable responses carry Cache-Tag for the balancer. The degraded-mode banner is filled in last.
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { bannerHtml, fillBanner } from '../render/layout.js';
import type { CachedPage } from '../cache/page-cache.js';
import { missedInFastPath } from './cached-hit.js';
import { NO_STORE, edgeCacheControl, publicCacheControl, state, type AppDeps } from './context.js';
import { BANNER_TEXT } from './writes-paused.js';

export interface Rendered {
  status: number;
  type: string;
  body: string | Buffer;
}

/** The read-only banner while writes are paused (failover, or Redis silent), else ''. */
export function bannerFor(deps: AppDeps): string {
  const paused = deps.db.writesPaused;
  return paused ? bannerHtml(BANNER_TEXT[paused]) : '';
}

function etagOf(body: string | Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

function send(deps: AppDeps, res: Response, page: Rendered & { etag?: string }, opts: { anonymous: boolean; tags: string[]; cache: 'HIT' | 'MISS' | 'BYPASS' }): void {
  res.status(page.status).type(page.type);
  if (opts.anonymous && page.status === 200 && deps.pageCacheTtlSeconds > 0) {
    res.setHeader('Cache-Control', publicCacheControl(deps.pageCacheTtlSeconds));
    res.setHeader('CDN-Cache-Control', edgeCacheControl(deps.pageCacheTtlSeconds));
    res.setHeader('Cache-Tag', opts.tags.join(', '));
  } else {
    res.setHeader('Cache-Control', NO_STORE);
  }
  res.setHeader('X-Page-Cache', opts.cache);
  const banner = page.type.startsWith('text/html') ? bannerFor(deps) : '';
  // The cached copy's ETag stands for the page without a banner; express hashes anything else.
  if (page.etag && !banner) res.setHeader('ETag', page.etag);
  res.send(banner ? fillBanner(page.body.toString(), banner) : page.body);
}

export async function servePage(deps: AppDeps, req: Request, res: Response, key: string, tags: string[], render: () => Promise<Rendered>): Promise<void> {
  const anonymous = state(res).session === null;
  const cacheKey = key;
  // A miss in the fast path (cached-hit.ts) was counted there; Redis is not asked twice.
  if (anonymous && deps.pageCache.enabled && missedInFastPath(req) !== cacheKey) {
    const hit = await deps.pageCache.get(cacheKey);
    deps.metrics.pageCache.inc({ result: hit ? 'hit' : 'miss' });
    if (hit) return send(deps, res, hit, { anonymous, tags: hit.tags, cache: 'HIT' });
  }
  const page = await render();
  if (anonymous && page.status === 200) {
    const entry: CachedPage = { ...page, tags, etag: etagOf(page.body) };
    await deps.pageCache.set(cacheKey, entry);
    return send(deps, res, entry, { anonymous, tags, cache: deps.pageCache.enabled ? 'MISS' : 'BYPASS' });
  }
  send(deps, res, page, { anonymous, tags, cache: anonymous && deps.pageCache.enabled ? 'MISS' : 'BYPASS' });
}

/**
 * The freshness a read needs: after the last content write (any visitor, so that a page cached
 * now is not older than the last edit), and after the user's own (read-your-writes).
 */
export async function freshnessFor(deps: AppDeps, res: Response): Promise<{ afterGtid?: string; primary?: boolean } | undefined> {
  const s = state(res).session;
  try {
    return await deps.sessions.lastWrite(s?.user.id);
  } catch {
    return s ? { primary: true } : undefined;
  }
}
