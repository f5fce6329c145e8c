// The balancer's admin API, served on the admin listener beside /healthz /readyz /metrics:
//   GET  /api/backends               every backend with health, in-flight, EWMA latency, ejections
//   POST /api/backends/:id/drain     stop sending new requests to it (drain token)
//   POST /api/backends/:id/undrain   take it back (drain token)
// Other /api/* routes (the cache's) are mounted through `extra`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '@dramble/lib';
import type { BackendSet } from '../backends/backend-set.js';
import { refusal, type AdminTokens } from './powers.js';

export type AdminRoute = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface AdminRoutesOptions {
  backends: BackendSet;
  /** A getter so a config reload (SIGHUP) takes effect; drain/undrain need `drain`. */
  tokens: () => AdminTokens;
  strategy: () => string;
  /** Tried first; returns true when it answered. */
  extra?: AdminRoute[];
}

export function createAdminHandler(options: AdminRoutesOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    for (const route of options.extra ?? []) if (await route(req, res)) return;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/api/backends' && (req.method === 'GET' || req.method === 'HEAD')) {
      const now = Date.now();
      const list = options.backends.all().map((b) => b.snapshot(now));
      sendJson(res, 200, { strategy: options.strategy(), healthy: list.filter((b) => b.health === 'healthy' && !b.draining).length, backends: list });
      return;
    }
    const m = /^\/api\/backends\/([^/]+)\/(drain|undrain)$/.exec(path);
    if (m) {
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' });
      const denied = refusal(req, 'drain', options.tokens());
      if (denied) {
        req.resume();
        if (denied.status === 401) res.setHeader('www-authenticate', 'Bearer');
        return sendJson(res, denied.status, { error: denied.error });
      }
      const id = decodeURIComponent(m[1]!);
      const backend = options.backends.get(id) ?? options.backends.all().find((b) => b.name === id);
      if (!backend) return sendJson(res, 404, { error: `no backend ${id}` });
      backend.adminDrained = m[2] === 'drain';
      req.resume();
      sendJson(res, 200, { backend: backend.snapshot(Date.now()) });
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  };
}
