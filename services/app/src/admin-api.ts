// The app's admin API beside /healthz, /readyz and /metrics: POST /api/cache/invalidate
// { "tags": [...] } drops cached pages by tag (bearer --admin-token; disabled without one).
import type http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { sendJson } from '@dramble/lib';
import type { PageCache } from './cache/page-cache.js';

function tokenMatches(expected: string, header: string | undefined): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function adminApi(adminToken: string | undefined, pageCache: PageCache): http.RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/api/cache/invalidate') return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' });
    if (!adminToken) return sendJson(res, 403, { error: 'the admin API is disabled (no --admin-token)' });
    if (!tokenMatches(adminToken, req.headers.authorization)) return sendJson(res, 401, { error: 'unauthorized' });
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
      if (text.length > 64 * 1024) req.destroy();
    });
    req.on('end', () => {
      let tags: unknown;
      try {
        tags = (JSON.parse(text) as { tags?: unknown }).tags;
      } catch {
        return sendJson(res, 400, { error: 'the body is not valid JSON' });
      }
      if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t.length > 0 && t.length < 200)) {
        return sendJson(res, 400, { error: 'invalid body', fields: { tags: ['must be a list of tags'] } });
      }
      pageCache.invalidate(tags as string[]).then(
        (keys) => sendJson(res, 200, { invalidated: keys.length }),
        (err: unknown) => sendJson(res, 503, { error: `the page cache is unavailable: ${String(err)}` }),
      );
    });
  };
}
