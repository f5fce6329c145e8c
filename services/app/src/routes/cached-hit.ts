// Cache hits without express. An anonymous GET or HEAD for a canonical public URL is looked up in
// the Redis page cache before express runs and, on a hit, answered here with the headers express
// would have sent (security headers, X-Request-Id, Cache-Control, Cache-Tag, ETag, 304 on a match),
// counted in the same metrics. Everything else goes on to express: other URLs, visitors with a
// session cookie, the degraded-mode banner, and misses (which servePage then renders without
// asking Redis a second time). Express's router, middleware chain and response helpers were most
// of a hit's CPU time.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import fresh from 'fresh';
import { SESSION_COOKIE } from '../auth/sessions.js';
import { edgeCacheControl, parseCookies, publicCacheControl, requestIdOf, type AppDeps } from './context.js';
import { cacheableRoute } from './page-keys.js';

/** Cache keys the fast path asked Redis for and missed, by request. */
const missed = new WeakMap<IncomingMessage, string>();

/** The page-cache key this request already missed in the fast path (servePage skips the second lookup). */
export function missedInFastPath(req: IncomingMessage): string | undefined {
  return missed.get(req);
}

function hasSessionCookie(req: IncomingMessage): boolean {
  const cookie = req.headers.cookie;
  return cookie !== undefined && cookie.includes(SESSION_COOKIE) && Boolean(parseCookies(req)[SESSION_COOKIE]);
}

/** If-None-Match against our ETag, decided by `fresh` as express's req.fresh decides it. */
export function notModified(headers: IncomingMessage['headers'], etag: string): boolean {
  return fresh(headers, { etag });
}

export function serveCachedHits(deps: AppDeps, securityHeaders: ReadonlyArray<readonly [string, string]>, next: RequestListener): RequestListener {
  // Headers that are the same on every hit, flat as writeHead takes them.
  const fixed: string[] = [...securityHeaders.flat(), 'X-App-Instance', deps.instanceName, 'Cache-Control', publicCacheControl(deps.pageCacheTtlSeconds), 'CDN-Cache-Control', edgeCacheControl(deps.pageCacheTtlSeconds), 'X-Page-Cache', 'HIT'];
  const counted = { hit: deps.metrics.pageCache.labels({ result: 'hit' }), miss: deps.metrics.pageCache.labels({ result: 'miss' }) };
  // Bound histogram children per method/route/status (a handful), so labels are not rebuilt per hit.
  const timers = new Map<string, { observe(v: number): void }>();
  const timer = (method: string, route: string, status: string) => {
    const k = `${method} ${route} ${status}`;
    let t = timers.get(k);
    if (!t) timers.set(k, (t = deps.metrics.httpDuration.labels({ method, route, status })));
    return t;
  };

  const answer = (req: IncomingMessage, res: ServerResponse, route: string, hit: { etag: string; type: string; tags: string[]; body: string | Buffer }, t0: bigint): void => {
    const id = requestIdOf(req.headers);
    const status = notModified(req.headers, hit.etag) ? 304 : 200;
    const headers = [...fixed, 'X-Request-Id', id, 'Cache-Tag', hit.tags.join(', '), 'ETag', hit.etag];
    // A 304 carries no body and so no Content-Type/Length (express strips them the same way).
    if (status === 200) headers.push('Content-Type', hit.type, 'Content-Length', String(Buffer.byteLength(hit.body)));
    res.writeHead(status, headers);
    res.end(status === 200 ? hit.body : undefined); // Node sends no body for HEAD by itself
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    timer(req.method!, route, String(status)).observe(seconds);
    if (deps.logger.isLevelEnabled('debug')) deps.logger.child({ reqId: id }).debug({ method: req.method, path: req.url, status, ms: Math.round(seconds * 1000) }, 'request');
  };

  return (req, res) => {
    const method = req.method;
    const url = req.url;
    const page = (method === 'GET' || method === 'HEAD') && url !== undefined && deps.pageCache.enabled && !deps.db.writesPaused ? cacheableRoute(url) : undefined;
    if (!page || hasSessionCookie(req)) return next(req, res);
    const t0 = process.hrtime.bigint();
    const key = page.key;
    void deps.pageCache.get(key).then((hit) => {
      // The banner may have become due while Redis answered: express fills it in.
      if (deps.db.writesPaused || (hit && hit.status !== 200)) return next(req, res);
      if (!hit) {
        counted.miss.inc();
        missed.set(req, key);
        return next(req, res);
      }
      counted.hit.inc();
      try {
        answer(req, res, page.route, hit, t0);
      } catch (err) {
        deps.logger.warn({ err }, 'cached page could not be sent');
        if (!res.headersSent) next(req, res);
        else res.destroy();
      }
    });
  };
}
