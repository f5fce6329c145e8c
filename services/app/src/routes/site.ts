// Public site routes: home, posts, pages, tags, feed, sitemap, robots.txt, static assets.
import { Router, type Request, type Response } from 'express';
import { assetsByPath } from '../render/assets.js';
import { atomFeed, robotsTxt, sitemap } from '../render/feed.js';
import { contentPage, homePage, notFoundPage, tagPage } from '../render/site-pages.js';
import { viewerOf, type AppDeps } from './context.js';
import { pageKey, validSlug, validTag } from './page-keys.js';
import { freshnessFor, servePage, type Rendered } from './serve-page.js';

const PER_PAGE = 10;
const HTML = 'text/html; charset=utf-8';

/** ?page=N as a number; undefined for anything that is not a page number. */
function pageParam(req: Request): number | undefined {
  const p = req.query['page'];
  if (p === undefined) return 1;
  if (typeof p !== 'string' || !/^[1-9]\d{0,4}$/.test(p)) return undefined;
  return Number(p);
}

export function siteRoutes(deps: AppDeps): Router {
  const r = Router();
  const notFound = (res: Response): Rendered => ({ status: 404, type: HTML, body: notFoundPage(viewerOf(res)) });

  r.get('/', async (req, res) => {
    const page = pageParam(req);
    if (page === undefined) return void res.status(404).type('html').send(notFoundPage(viewerOf(res)));
    await servePage(deps, req, res, pageKey.home(page), ['home'], async () => {
      const { items, total } = await deps.content.list({ kind: 'post', status: 'published', page, perPage: PER_PAGE }, await freshnessFor(deps, res));
      if (page > 1 && items.length === 0) return notFound(res);
      return { status: 200, type: HTML, body: homePage(items, page, total, PER_PAGE, viewerOf(res), deps.publicUrl + pageKey.home(page)) };
    });
  });

  for (const kind of ['post', 'page'] as const) {
    r.get(`/${kind}s/:slug`, async (req, res) => {
      const slug = String(req.params['slug']);
      if (!validSlug(slug)) return void res.status(404).type('html').send(notFoundPage(viewerOf(res)));
      await servePage(deps, req, res, pageKey.content(kind, slug), [`${kind}:${slug}`], async () => {
        const c = await deps.content.getBySlug(slug, await freshnessFor(deps, res));
        if (!c || c.kind !== kind || c.status !== 'published') return notFound(res);
        return { status: 200, type: HTML, body: contentPage(c, viewerOf(res), deps.publicUrl + pageKey.content(kind, slug)) };
      });
    });
  }

  r.get('/tags/:tag', async (req, res) => {
    const tag = String(req.params['tag']);
    const page = pageParam(req);
    if (!validTag(tag) || page === undefined) return void res.status(404).type('html').send(notFoundPage(viewerOf(res)));
    await servePage(deps, req, res, pageKey.tag(tag, page), [`tag:${tag}`], async () => {
      const { items, total } = await deps.content.list({ kind: 'post', status: 'published', tag, page, perPage: PER_PAGE }, await freshnessFor(deps, res));
      if (items.length === 0) return notFound(res);
      return { status: 200, type: HTML, body: tagPage(tag, items, page, total, PER_PAGE, viewerOf(res), deps.publicUrl + (page === 1 ? `/tags/${tag}` : pageKey.tag(tag, page))) };
    });
  });

  r.get('/feed.xml', async (req, res) => {
    await servePage(deps, req, res, pageKey.feed, ['feed'], async () => {
      const { items } = await deps.content.list({ kind: 'post', status: 'published', page: 1, perPage: 20 }, await freshnessFor(deps, res));
      return { status: 200, type: 'application/atom+xml; charset=utf-8', body: atomFeed(deps.publicUrl, items) };
    });
  });

  r.get('/sitemap.xml', async (req, res) => {
    await servePage(deps, req, res, pageKey.sitemap, ['sitemap'], async () => ({
      status: 200,
      type: 'application/xml; charset=utf-8',
      body: sitemap(deps.publicUrl, await deps.content.sitemapEntries(await freshnessFor(deps, res))),
    }));
  });

  r.get('/robots.txt', (req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('text/plain').send(robotsTxt(deps.publicUrl));
  });

  r.get('/static/:file', (req, res) => {
    const a = assetsByPath.get(req.path);
    if (!a) return void res.status(404).type('text/plain').send('not found');
    // The content hash is in the name, so a copy can be kept for a year without revalidation.
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.type(a.type).send(a.body);
  });

  r.get('/favicon.ico', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.status(204).end();
  });

  return r;
}
