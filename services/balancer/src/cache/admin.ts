// The cache's part of the admin API: `GET /api/cache` (size and hit statistics) and the
// authenticated `POST /api/cache/purge` the app calls when content changes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { sendJson } from '@dramble/lib';
import type { CacheLayer } from './layer.js';

const MAX_BODY_BYTES = 1024 * 1024;

const list = (max: number) => z.array(z.string().min(1, 'must not be empty').max(max)).max(10_000).optional();

export const purgeRequestSchema = z
  .object({ urls: list(8192), prefixes: list(8192), tags: list(1024) })
  .strict()
  .refine((b) => (b.urls?.length ?? 0) + (b.prefixes?.length ?? 0) + (b.tags?.length ?? 0) > 0, {
    message: 'give at least one of urls, prefixes or tags',
  });

/** Handles the cache routes; returns false for any other path so the caller can route it. */
export function cacheAdminRoutes(
  layer: CacheLayer,
  /** The token, or a getter so a config reload (SIGHUP) takes effect. */
  adminToken: string | undefined | (() => string | undefined),
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const token = typeof adminToken === 'function' ? adminToken : () => adminToken;
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/api/cache') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
      sendJson(res, 200, layer.stats());
      return true;
    }
    if (path === '/api/cache/purge') {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      const denied = authProblem(req, token());
      if (denied) {
        req.resume();
        res.setHeader('www-authenticate', 'Bearer');
        sendJson(res, denied.status, { error: denied.error });
        return true;
      }
      readJson(req).then(
        (body) => {
          const parsed = purgeRequestSchema.safeParse(body);
          if (!parsed.success) {
            const { formErrors, fieldErrors } = z.flattenError(parsed.error);
            sendJson(res, 400, { error: 'invalid purge request', formErrors, fieldErrors });
            return;
          }
          sendJson(res, 200, { purged: layer.purge(parsed.data) });
        },
        (err: Error & { status?: number }) => {
          if (!res.headersSent) sendJson(res, err.status ?? 400, { error: err.message });
        },
      );
      return true;
    }
    return false;
  };
}

function methodNotAllowed(res: ServerResponse, allow: string): true {
  res.setHeader('allow', allow);
  sendJson(res, 405, { error: 'method not allowed' });
  return true;
}

function authProblem(req: IncomingMessage, token: string | undefined): { status: number; error: string } | undefined {
  if (!token) return { status: 401, error: 'no admin token is configured (--admin-token); mutating calls are disabled' };
  const m = /^Bearer\s+(.+)$/i.exec(req.headers['authorization'] ?? '');
  if (!m) return { status: 401, error: 'missing bearer token' };
  // Compare digests so the comparison takes the same time whatever the length of the guess.
  const given = createHash('sha256').update(m[1]!.trim()).digest();
  const wanted = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, wanted) ? undefined : { status: 401, error: 'invalid bearer token' };
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return reject(Object.assign(new Error(`body larger than ${MAX_BODY_BYTES} bytes`), { status: 413 }));
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      } catch {
        reject(new Error('body must be JSON'));
      }
    });
    req.on('error', reject);
  });
}
