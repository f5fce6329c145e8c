// The manager's HTTP API, mounted on the admin listener beside /healthz, /readyz and /metrics.
import express, { type ErrorRequestHandler, type Request } from 'express';
import { z } from 'zod';
import type { Logger } from '@dramble/lib';
import { ConflictError, NotFoundError } from '../errors.js';
import type { Manager } from '../manager.js';
import { RecoveryError } from '../recovery/context.js';
import { requireToken } from './auth.js';

const SwitchoverBody = z.strictObject({ target: z.string().min(1, 'target must be an instance id (host:port)').optional() });
const EmptyBody = z.strictObject({});

class BadRequestError extends Error {
  constructor(
    message: string,
    readonly issues: unknown[] = [],
  ) {
    super(message);
    this.name = 'BadRequestError';
  }
}

function parseBody<T>(schema: z.ZodType<T>, req: Request): T {
  const r = schema.safeParse(req.body ?? {});
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new BadRequestError(`invalid request body: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`, issues);
  }
  return r.data;
}

export function createApi(manager: Manager, opts: { adminToken?: string | undefined; logger: Logger }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));
  // A body that is not JSON is refused: read as "no body", a form post would start a switchover to
  // a target of the manager's choosing.
  app.use('/api', (req, res, next) => {
    const declared = req.headers['content-length'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0');
    if (hasBody && !req.is('application/json')) return void res.status(415).json({ error: 'request bodies must be JSON (Content-Type: application/json)' });
    next();
  });
  const auth = requireToken(opts.adminToken);

  app.get('/api/topology', (_req, res) => {
    res.set('cache-control', 'no-store').json(manager.view());
  });

  app.get('/api/events', (req, res) => {
    const limit = Math.min(500, Math.max(1, Number(req.query['limit'] ?? 100) || 100));
    res.set('cache-control', 'no-store').json({ events: manager.eventList(limit) });
  });

  app.post('/api/switchover', auth, async (req, res) => {
    const body = parseBody(SwitchoverBody, req);
    const r = await manager.switchover(body.target);
    res.json({ ok: true, from: r.oldPrimaryId, to: r.newPrimaryId, gtid: r.gtid, durationMs: r.durationMs, readOnlyMs: r.readOnlyMs, epoch: manager.epoch });
  });

  app.post('/api/instances/:id/rejoin', auth, async (req, res) => {
    parseBody(EmptyBody, req);
    const id = String(req.params['id']);
    await manager.rejoinInstance(id);
    res.json({ ok: true, instance: id, primary: manager.primaryId });
  });

  // A known route with the wrong method says which method it takes.
  const allow = (method: string): express.RequestHandler => (_req, res) => void res.set('allow', method).status(405).json({ error: `use ${method}` });
  app.all('/api/topology', allow('GET'));
  app.all('/api/events', allow('GET'));
  app.all('/api/switchover', allow('POST'));
  app.all('/api/instances/:id/rejoin', allow('POST'));

  app.use('/api', (_req, res) => {
    res.status(404).json({ error: 'no such API route' });
  });

  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') return void res.status(400).json({ error: `request body is not valid JSON: ${e.message ?? ''}` });
    if (err instanceof BadRequestError) return void res.status(400).json({ error: err.message, issues: err.issues });
    if (err instanceof NotFoundError) return void res.status(404).json({ error: err.message });
    if (err instanceof ConflictError) return void res.status(409).json({ error: err.message, ...err.facts });
    if (err instanceof RecoveryError) return void res.status(409).json({ error: err.message, ...err.facts });
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return void res.status(e.status).json({ error: e.message ?? 'bad request' });
    opts.logger.error({ err }, 'API request failed');
    res.status(500).json({ error: `internal error: ${e.message ?? String(err)}` });
  };
  app.use(onError);
  return app;
}
