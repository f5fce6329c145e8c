// The cache's part of the admin API: `GET /api/cache` (size and hit statistics) and the
// authenticated `POST /api/cache/purge` the app calls when content changes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { readJsonBody, sendJson, type HttpError } from '@dramble/lib';
import { refusal, type AdminTokens } from '../admin/powers.js';
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
  /** The tokens (purging needs `purge`), or a getter so a config reload (SIGHUP) takes effect. */
  adminTokens: AdminTokens | (() => AdminTokens),
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const tokens = typeof adminTokens === 'function' ? adminTokens : () => adminTokens;
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/api/cache') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
      sendJson(res, 200, layer.stats());
      return true;
    }
    if (path === '/api/cache/purge') {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      const denied = refusal(req, 'purge', tokens());
      if (denied) {
        req.resume();
        if (denied.status === 401) res.setHeader('www-authenticate', 'Bearer');
        sendJson(res, denied.status, { error: denied.error });
        return true;
      }
      readJsonBody(req, MAX_BODY_BYTES).then(
        (body) => {
          const parsed = purgeRequestSchema.safeParse(body);
          if (!parsed.success) {
            const { formErrors, fieldErrors } = z.flattenError(parsed.error);
            sendJson(res, 400, { error: 'invalid purge request', formErrors, fieldErrors });
            return;
          }
          sendJson(res, 200, { purged: layer.purge(parsed.data) });
        },
        (err: HttpError) => {
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
