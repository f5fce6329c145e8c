// JSON API /api/v1/{posts,pages}: list with paging and filters, get, create, update, delete.
// Bearer token per user; bodies validated with zod (400 with field errors, nothing written). Writes take an
// Idempotency-Key header (stored in MySQL with the write; see db/idempotency.ts).
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { createContentSchema, fieldErrors, listQuerySchema, SLUG_RE, updateContentSchema, type ContentKind } from '../content/schema.js';
import { ContentNotFoundError } from '../content/errors.js';
import type { BeforeCommit, Content, ContentChange } from '../content/repo.js';
import { IdempotencyKeyLostError, type StoredResponse } from '../db/idempotency.js';
import { parseIdempotencyKey, requestHash } from '../db/idempotency-rules.js';
import { WriteOutcomeUnknownError } from '../db/errors.js';
import type { User } from '../auth/users.js';
import { type AppDeps } from './context.js';
import { afterWrite } from './after-write.js';

export function contentJson(c: Content): Record<string, unknown> {
  return {
    id: c.id, kind: c.kind, slug: c.slug, title: c.title, summary: c.summary, body: c.bodyMd, bodyHtml: c.bodyHtml,
    tags: c.tags, status: c.status, author: c.authorName, createdAt: c.createdAt, updatedAt: c.updatedAt, publishedAt: c.publishedAt, version: c.version,
  };
}

type Reply = StoredResponse;
type RawBodyRequest = Request & { rawBody?: Buffer };

function send(res: Response, reply: Reply): void {
  if (reply.location) res.location(reply.location);
  if (reply.status === 204 || reply.body === null) return void res.status(reply.status).end();
  res.status(reply.status).json(reply.body);
}

function apiUser(res: Response): User {
  return res.locals['apiUser'] as User;
}

export function apiRoutes(deps: AppDeps): Router {
  const r = Router();
  // The raw bytes are kept for the Idempotency-Key's request hash.
  r.use(express.json({ limit: '256kb', verify: (req, _res, buf) => void ((req as RawBodyRequest).rawBody = Buffer.from(buf)) }));

  r.use(async (req: Request, res: Response, next: NextFunction) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const user = m ? await deps.users.findByToken(m[1]!) : null;
    if (!user) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="dramble"');
      return void res.status(401).json({ error: 'unauthorized', message: 'send Authorization: Bearer <token> (create one in the editor)' });
    }
    res.locals['apiUser'] = user;
    next();
  });

  const freshness = async (res: Response): Promise<{ afterGtid?: string; primary?: boolean } | undefined> => {
    try {
      return await deps.sessions.lastWrite(apiUser(res).id);
    } catch {
      return { primary: true };
    }
  };

  const load = async (kind: ContentKind, req: Request, res: Response): Promise<Content> => {
    const slug = String(req.params['slug']);
    const c = SLUG_RE.test(slug) ? await deps.content.getBySlug(slug, await freshness(res)) : null;
    if (!c || c.kind !== kind) throw new ContentNotFoundError(`${kind} ${slug}`);
    return c;
  };

  /**
   * Runs a write under the request's Idempotency-Key, if it sent one: a retry of a finished request
   * gets the stored response, a different request under the same key 422, one still running 409.
   * `run` gets the hook that stores the response inside the write's transaction.
   */
  const idempotent = async (req: Request, res: Response, run: (hook: (reply: (c: ContentChange) => Reply) => BeforeCommit | undefined) => Promise<Reply>): Promise<void> => {
    const parsed = parseIdempotencyKey(req.headers['idempotency-key']);
    if (parsed === undefined) return send(res, await run(() => undefined));
    if ('error' in parsed) return void res.status(400).json({ error: 'invalid header', fields: { 'Idempotency-Key': [parsed.error] } });
    const hash = requestHash(req.method, req.originalUrl, (req as RawBodyRequest).rawBody);
    const claim = await deps.idempotency.claim(`user:${apiUser(res).id}`, parsed.key, hash);
    if (claim.kind === 'replay') {
      res.setHeader('Idempotent-Replayed', 'true');
      return send(res, claim.response);
    }
    if (claim.kind === 'mismatch') {
      return void res.status(422).json({ error: 'idempotency key reused', message: 'this Idempotency-Key was used for a different request; use a new key for a new request' });
    }
    if (claim.kind === 'in-progress') {
      res.setHeader('Retry-After', '1');
      return void res.status(409).json({ error: 'in progress', message: 'a request with this Idempotency-Key is still running; retry shortly' });
    }
    const { ticket } = claim;
    try {
      send(res, await run((reply) => (sql, change) => deps.idempotency.complete(sql, ticket, reply(change))));
    } catch (err) {
      // With the outcome unknown the claim stays: a retry waits for it, then sees the stored response
      // if the write committed, or takes the claim over once its lease runs out.
      if (!(err instanceof WriteOutcomeUnknownError)) {
        await deps.idempotency.release(ticket).catch((e: unknown) => deps.logger.warn({ err: String(e) }, 'could not release an idempotency key; it frees itself when its lease ends'));
      }
      if (err instanceof IdempotencyKeyLostError) {
        res.setHeader('Retry-After', '1');
        return void res.status(409).json({ error: 'in progress', message: err.message });
      }
      throw err;
    }
  };

  for (const kind of ['post', 'page'] as const) {
    const base = `/${kind}s`;

    r.get(base, async (req, res) => {
      const q = listQuerySchema.safeParse(req.query);
      if (!q.success) return void res.status(400).json({ error: 'invalid query', fields: fieldErrors(q.error) });
      const { items, total } = await deps.content.list({ kind, status: q.data.status, tag: q.data.tag, page: q.data.page, perPage: q.data.per_page }, await freshness(res));
      res.json({ items: items.map(contentJson), page: q.data.page, perPage: q.data.per_page, total });
    });

    r.get(`${base}/:slug`, async (req, res) => {
      res.json(contentJson(await load(kind, req, res)));
    });

    r.post(base, async (req, res) => {
      const parsed = createContentSchema.safeParse(req.body);
      if (!parsed.success) return void res.status(400).json({ error: 'invalid body', fields: fieldErrors(parsed.error) });
      const reply = (c: ContentChange): Reply => ({ status: 201, location: `/api/v1${base}/${c.after!.slug}`, body: contentJson(c.after!) });
      await idempotent(req, res, async (hook) => {
        const { change, gtid } = await deps.content.create(kind, parsed.data, apiUser(res).id, hook(reply));
        await afterWrite(deps, apiUser(res).id, change, gtid);
        return reply(change);
      });
    });

    const update = async (req: Request, res: Response): Promise<void> => {
      const parsed = updateContentSchema.safeParse(req.body);
      if (!parsed.success) return void res.status(400).json({ error: 'invalid body', fields: fieldErrors(parsed.error) });
      const reply = (c: ContentChange): Reply => ({ status: 200, body: contentJson(c.after!) });
      await idempotent(req, res, async (hook) => {
        // Loaded under the key: a replayed edit must not be judged against the row it already changed.
        const current = await load(kind, req, res);
        const { change, gtid } = await deps.content.update(current.id, parsed.data, hook(reply));
        await afterWrite(deps, apiUser(res).id, change, gtid);
        return reply(change);
      });
    };
    r.patch(`${base}/:slug`, update);
    r.put(`${base}/:slug`, update);

    r.delete(`${base}/:slug`, async (req, res) => {
      const v = req.query['version'];
      let version: number | undefined;
      if (v !== undefined) {
        if (typeof v !== 'string' || !/^[1-9]\d*$/.test(v)) return void res.status(400).json({ error: 'invalid query', fields: { version: ['must be a positive whole number'] } });
        version = Number(v);
      }
      const reply = (): Reply => ({ status: 204, body: null });
      await idempotent(req, res, async (hook) => {
        const current = await load(kind, req, res);
        const { change, gtid } = await deps.content.delete(current.id, version, hook(reply));
        await afterWrite(deps, apiUser(res).id, change, gtid);
        return reply();
      });
    });
  }

  r.use((_req, res) => void res.status(404).json({ error: 'not found' }));
  return r;
}
