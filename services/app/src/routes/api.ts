// JSON API /api/v1/{posts,pages}: list with paging and filters, get, create, update, delete.
// Bearer token per user; bodies validated with zod (400 with field errors, nothing written).
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { createContentSchema, fieldErrors, listQuerySchema, SLUG_RE, updateContentSchema, type ContentKind } from '../content/schema.js';
import { ContentNotFoundError } from '../content/errors.js';
import type { Content } from '../content/repo.js';
import type { User } from '../auth/users.js';
import { type AppDeps } from './context.js';
import { afterWrite } from './after-write.js';

export function contentJson(c: Content): Record<string, unknown> {
  return {
    id: c.id, kind: c.kind, slug: c.slug, title: c.title, summary: c.summary, body: c.bodyMd, bodyHtml: c.bodyHtml,
    tags: c.tags, status: c.status, author: c.authorName, createdAt: c.createdAt, updatedAt: c.updatedAt, publishedAt: c.publishedAt, version: c.version,
  };
}

function apiUser(res: Response): User {
  return res.locals['apiUser'] as User;
}

export function apiRoutes(deps: AppDeps): Router {
  const r = Router();
  r.use(express.json({ limit: '256kb' }));

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
      const { change, gtid } = await deps.content.create(kind, parsed.data, apiUser(res).id);
      await afterWrite(deps, apiUser(res).id, change, gtid);
      res.status(201).location(`/api/v1${base}/${change.after!.slug}`).json(contentJson(change.after!));
    });

    const update = async (req: Request, res: Response): Promise<void> => {
      const parsed = updateContentSchema.safeParse(req.body);
      if (!parsed.success) return void res.status(400).json({ error: 'invalid body', fields: fieldErrors(parsed.error) });
      const current = await load(kind, req, res);
      const { change, gtid } = await deps.content.update(current.id, parsed.data);
      await afterWrite(deps, apiUser(res).id, change, gtid);
      res.json(contentJson(change.after!));
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
      const current = await load(kind, req, res);
      const { change, gtid } = await deps.content.delete(current.id, version);
      await afterWrite(deps, apiUser(res).id, change, gtid);
      res.status(204).end();
    });
  }

  r.use((_req, res) => void res.status(404).json({ error: 'not found' }));
  return r;
}
