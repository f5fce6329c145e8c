// The editor's HTML forms: list, create, edit, preview, publish, unpublish, delete, API tokens.
import express, { Router, type Request, type Response } from 'express';
import { renderMarkdown } from '../content/markdown.js';
import { createContentSchema, fieldErrors, splitTags, updateContentSchema, type ContentKind } from '../content/schema.js';
import { SlugTakenError, VersionConflictError } from '../content/errors.js';
import { PrimaryUnavailableError } from '../db/errors.js';
import { fillBanner, type Viewer } from '../render/layout.js';
import type { Content } from '../content/repo.js';
import { editorFormPage, editorListPage, tokensPage, type EditorForm } from '../render/editor-pages.js';
import { errorPage, notFoundPage } from '../render/site-pages.js';
import { state, viewerOf, type AppDeps } from './context.js';
import { afterWrite } from './after-write.js';
import { requireCsrf, requireSession } from './auth.js';
import { bannerFor, freshnessFor } from './serve-page.js';
import { REDIS_SILENT, refusalText } from './writes-paused.js';

type Action = 'save' | 'preview' | 'publish' | 'unpublish';

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function formFromBody(body: Record<string, unknown>, kind: ContentKind, current?: Content): EditorForm {
  return {
    ...(current ? { id: current.id } : {}),
    kind,
    title: str(body['title']),
    slug: str(body['slug']),
    summary: str(body['summary']),
    body: str(body['body']),
    tags: str(body['tags']),
    status: current?.status ?? 'draft',
    ...(body['version'] !== undefined ? { version: Number(body['version']) } : {}),
  };
}

function formFromContent(c: Content): EditorForm {
  return { id: c.id, kind: c.kind, title: c.title, slug: c.slug, summary: c.summary, body: c.bodyMd, tags: c.tags.join(', '), status: c.status, version: c.version };
}

function actionOf(body: Record<string, unknown>): Action {
  const a = body['action'];
  return a === 'preview' || a === 'publish' || a === 'unpublish' ? a : 'save';
}

function idParam(req: Request): number | undefined {
  const id = String(req.params['id']);
  return /^[1-9]\d{0,9}$/.test(id) ? Number(id) : undefined;
}

export function editorRoutes(deps: AppDeps): Router {
  const r = Router();
  const form = express.urlencoded({ extended: false, limit: '256kb' });
  // Every editor page carries the read-only banner while writes are paused, so nobody types a
  // long post into a form that cannot be saved without being told.
  r.use('/editor', (_req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => send(typeof body === 'string' && String(res.get('Content-Type') ?? '').startsWith('text/html') ? fillBanner(body, bannerFor(deps)) : body);
    next();
  });
  // A form sent while Redis is silent cannot be checked against its session, and writes are
  // paused for the same silence: say that nothing was saved and why, rather than "log in".
  r.use('/editor', (req, res, next) => {
    const st = state(res);
    if (req.method === 'GET' || st.session || !st.redisDown) return next();
    res.status(503).setHeader('Retry-After', '5');
    res.type('html').send(errorPage('Not saved', `${REDIS_SILENT.html} Go back to keep your text, and submit it again once this notice is gone.`));
  });
  r.use('/editor', requireSession);

  /** A save the database refused (failover, Redis silent) or did not confirm: the form again, with why. */
  const refused = (res: Response, err: PrimaryUnavailableError, f: EditorForm, viewer: Viewer): void => {
    res.status(503).setHeader('Retry-After', '5');
    res.type('html').send(editorFormPage({ form: f, viewer, alert: refusalText(err).html }));
  };

  r.get('/editor', async (req, res) => {
    const { items } = await deps.content.list({ page: 1, perPage: 100 }, await freshnessFor(deps, res));
    const message = req.query['deleted'] ? 'Deleted.' : undefined;
    res.type('html').send(editorListPage(items, viewerOf(res)!, message));
  });

  r.get('/editor/new', (req, res) => {
    const kind: ContentKind = req.query['kind'] === 'page' ? 'page' : 'post';
    res.type('html').send(editorFormPage({ form: { kind, title: '', slug: '', summary: '', body: '', tags: '', status: 'draft' }, viewer: viewerOf(res)! }));
  });

  r.post('/editor/new', form, requireCsrf, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const kind: ContentKind = body['kind'] === 'page' ? 'page' : 'post';
    const f = formFromBody(body, kind);
    const action = actionOf(body);
    const viewer = viewerOf(res)!;
    if (action === 'preview') return void res.type('html').send(editorFormPage({ form: f, viewer, previewHtml: await renderMarkdown(f.body) }));
    const parsed = createContentSchema.safeParse({ title: f.title, slug: f.slug, summary: f.summary, body: f.body, tags: splitTags(f.tags), status: action === 'publish' ? 'published' : 'draft' });
    if (!parsed.success) return void res.status(400).type('html').send(editorFormPage({ form: f, viewer, errors: fieldErrors(parsed.error) }));
    try {
      const user = state(res).session!.user;
      const { change, gtid } = await deps.content.create(kind, parsed.data, user.id);
      await afterWrite(deps, user.id, change, gtid);
      res.redirect(303, `/editor/${change.after!.id}/edit?saved=1`);
    } catch (err) {
      if (err instanceof SlugTakenError) return void res.status(409).type('html').send(editorFormPage({ form: f, viewer, errors: { slug: ['is already used by another post or page'] } }));
      if (err instanceof PrimaryUnavailableError) return refused(res, err, f, viewer);
      throw err;
    }
  });

  r.get('/editor/tokens', async (_req, res) => {
    const tokens = await deps.users.listTokens(state(res).session!.user.id);
    res.type('html').send(tokensPage({ viewer: viewerOf(res)!, tokens }));
  });

  r.post('/editor/tokens', form, requireCsrf, async (req, res) => {
    const userId = state(res).session!.user.id;
    const name = str((req.body as Record<string, unknown>)['name']).trim() || 'api';
    const token = await deps.users.createToken(userId, name);
    const tokens = await deps.users.listTokens(userId);
    res.status(201).type('html').send(tokensPage({ viewer: viewerOf(res)!, tokens, newToken: token }));
  });

  r.get('/editor/:id/edit', async (req, res) => {
    const id = idParam(req);
    const c = id === undefined ? null : await deps.content.getById(id, await freshnessFor(deps, res));
    if (!c) return void res.status(404).type('html').send(notFoundPage(viewerOf(res)));
    const message = req.query['saved'] ? (c.status === 'published' ? 'Saved and published.' : 'Saved as a draft.') : undefined;
    res.type('html').send(editorFormPage({ form: formFromContent(c), viewer: viewerOf(res)!, ...(message ? { message } : {}) }));
  });

  r.post('/editor/:id/edit', form, requireCsrf, async (req, res) => {
    const id = idParam(req);
    const current = id === undefined ? null : await deps.content.getById(id, await freshnessFor(deps, res));
    if (!current) return void res.status(404).type('html').send(notFoundPage(viewerOf(res)));
    const body = req.body as Record<string, unknown>;
    const f = formFromBody(body, current.kind, current);
    const action = actionOf(body);
    const viewer = viewerOf(res)!;
    if (action === 'preview') return void res.type('html').send(editorFormPage({ form: f, viewer, previewHtml: await renderMarkdown(f.body) }));
    const status = action === 'publish' ? 'published' : action === 'unpublish' ? 'draft' : current.status;
    const parsed = updateContentSchema.safeParse({ title: f.title, slug: f.slug, summary: f.summary, body: f.body, tags: splitTags(f.tags), status, version: f.version });
    if (!parsed.success) return void res.status(400).type('html').send(editorFormPage({ form: f, viewer, errors: fieldErrors(parsed.error) }));
    try {
      const user = state(res).session!.user;
      const { change, gtid } = await deps.content.update(current.id, parsed.data);
      await afterWrite(deps, user.id, change, gtid);
      res.redirect(303, `/editor/${current.id}/edit?saved=1`);
    } catch (err) {
      if (err instanceof SlugTakenError) return void res.status(409).type('html').send(editorFormPage({ form: f, viewer, errors: { slug: ['is already used by another post or page'] } }));
      if (err instanceof VersionConflictError) {
        return void res.status(409).type('html').send(editorFormPage({ form: f, viewer, errors: { _: [`Someone else saved this ${current.kind} since you opened it (now version ${err.actual}). Copy your changes, reload, and apply them again.`] } }));
      }
      if (err instanceof PrimaryUnavailableError) return refused(res, err, f, viewer);
      throw err;
    }
  });

  r.post('/editor/:id/delete', form, requireCsrf, async (req, res: Response) => {
    const id = idParam(req);
    if (id === undefined) return void res.status(404).type('html').send(notFoundPage(viewerOf(res)));
    const v = Number((req.body as Record<string, unknown>)['version']);
    const user = state(res).session!.user;
    const { change, gtid } = await deps.content.delete(id, Number.isInteger(v) && v > 0 ? v : undefined);
    await afterWrite(deps, user.id, change, gtid);
    res.redirect(303, '/editor?deleted=1');
  });

  return r;
}
