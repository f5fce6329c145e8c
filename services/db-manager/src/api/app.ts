// The manager's HTTP API, on the admin listener beside /healthz, /readyz and /metrics:
//   GET  /api/topology                 primary, instances, problem, epoch
//   GET  /api/events?limit=N           the newest events
//   POST /api/switchover               {"target"?: "host:port"} (token)
//   POST /api/instances/:id/rejoin     {} (token)
//   POST /api/rebuild                  {"instance": "host:port"} (token): re-seed it from the primary
// Routed by hand on node:http, as the balancer's admin API is: five routes did not pay for express.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { z } from 'zod';
import { checkBearerToken, HttpError, readJsonBody, sendJson, type Logger } from '@dramble/lib';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Manager } from '../manager.js';
import { RecoveryError } from '../recovery/context.js';

const SwitchoverBody = z.strictObject({ target: z.string().min(1, 'target must be an instance id (host:port)').optional() });
const EmptyBody = z.strictObject({});
const RebuildBody = z.strictObject({ instance: z.string().min(1, 'instance must be an instance id (host:port)').max(300, 'instance is too long') });
const MAX_BODY_BYTES = 16 * 1024;

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: string[]) => Promise<void> | void;
interface Route {
  pattern: RegExp;
  method: 'GET' | 'POST';
  mutating: boolean;
  handle: Handler;
}

async function parseBody<T>(schema: z.ZodType<T>, req: IncomingMessage): Promise<T> {
  const r = schema.safeParse((await readJsonBody(req, MAX_BODY_BYTES)) ?? {});
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new HttpError(400, `invalid request body: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`, { issues });
  }
  return r.data;
}

const TOKEN_REFUSALS = {
  unconfigured: [403, 'mutating calls are disabled: start the manager with --admin-token (DBM_ADMIN_TOKEN)'],
  missing: [401, 'missing Authorization: Bearer <token> header'],
  invalid: [401, 'invalid bearer token'],
} as const;

export function createApi(manager: Manager, opts: { adminToken?: string | undefined; logger: Logger }): RequestListener {
  const routes: Route[] = [
    {
      pattern: /^\/api\/topology$/,
      method: 'GET',
      mutating: false,
      handle: (_req, res) => sendJson(res, 200, manager.view()),
    },
    {
      pattern: /^\/api\/events$/,
      method: 'GET',
      mutating: false,
      handle: (_req, res, url) => {
        const limit = Math.min(500, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
        sendJson(res, 200, { events: manager.eventList(limit) });
      },
    },
    {
      pattern: /^\/api\/switchover$/,
      method: 'POST',
      mutating: true,
      handle: async (req, res) => {
        const body = await parseBody(SwitchoverBody, req);
        const r = await manager.switchover(body.target);
        sendJson(res, 200, { ok: true, from: r.oldPrimaryId, to: r.newPrimaryId, gtid: r.gtid, durationMs: r.durationMs, readOnlyMs: r.readOnlyMs, epoch: manager.epoch });
      },
    },
    {
      pattern: /^\/api\/instances\/([^/]+)\/rejoin$/,
      method: 'POST',
      mutating: true,
      handle: async (req, res, _url, [id]) => {
        await parseBody(EmptyBody, req);
        await manager.rejoinInstance(id!);
        sendJson(res, 200, { ok: true, instance: id, primary: manager.primaryId });
      },
    },
    {
      pattern: /^\/api\/rebuild$/,
      method: 'POST',
      mutating: true,
      handle: async (req, res) => {
        const body = await parseBody(RebuildBody, req);
        const r = await manager.rebuildInstance(body.instance);
        sendJson(res, 200, { ok: true, instance: r.instanceId, primary: r.primaryId, gtid: r.gtid, errantGtids: r.errantGtids, exportFile: r.export?.path ?? null, durationMs: r.durationMs });
      },
    },
  ];

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin');
    for (const route of routes) {
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      const method = req.method === 'HEAD' && route.method === 'GET' ? 'GET' : req.method;
      // A known route with the wrong method says which method it takes.
      if (method !== route.method) {
        req.resume();
        res.setHeader('allow', route.method);
        return sendJson(res, 405, { error: `use ${route.method}` });
      }
      if (route.mutating) {
        const check = checkBearerToken(req, opts.adminToken);
        if (check !== 'ok') {
          req.resume();
          const [status, error] = TOKEN_REFUSALS[check];
          if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="dramble-db-manager"');
          return sendJson(res, status, { error });
        }
      }
      return route.handle(req, res, url, m.slice(1).map(decodeURIComponent));
    }
    req.resume();
    sendJson(res, 404, { error: 'no such API route' });
  };

  return (req, res) => {
    serve(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const [status, body] = errorAnswer(err);
      if (status === 500) opts.logger.error({ err }, 'API request failed');
      sendJson(res, status, body);
    });
  };
}

/** The status and body an error is answered with: the caller's mistakes are 4xx, ours 500. */
function errorAnswer(err: unknown): [number, Record<string, unknown>] {
  if (err instanceof HttpError) return [err.status, { error: err.message, ...err.facts }];
  if (err instanceof URIError) return [400, { error: 'malformed percent-encoding in the path' }];
  if (err instanceof NotFoundError) return [404, { error: err.message }];
  if (err instanceof ConflictError || err instanceof RecoveryError) return [409, { error: err.message, ...err.facts }];
  return [500, { error: `internal error: ${err instanceof Error ? err.message : String(err)}` }];
}
