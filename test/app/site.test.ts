// The public site on a fresh database: the seeded starter site, every public route, cache headers,
// the page cache, and the admin listener.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { AppHandle } from '@dramble/app';
import { latestVersion } from '@dramble/app';
import { metricValue, startStack, startTestApp, type Stack } from './helpers.js';

describe('the public site', () => {
  let stack: Stack;
  let app: AppHandle;

  before(async () => {
    stack = await startStack();
    app = await startTestApp(stack, 'site', ['--instance-name', 'app-test-1', '--node-name', 'pi-2', '--admin-token', 'admin-secret']);
    await stack.cluster.sync();
  });
  after(async () => {
    await app?.close();
    await stack?.destroy();
  });

  it('shows the seeded starter site on the home page with cache headers for the balancer', async () => {
    const res = await request(app.server).get('/').expect(200);
    assert.match(res.headers['content-type']!, /text\/html/);
    assert.match(res.text, /What is the Dramble\?/);
    assert.match(res.text, /The hardware/);
    assert.match(res.text, /How it is built and deployed/);
    assert.equal(res.headers['x-app-instance'], 'app-test-1');
    assert.equal(res.headers['cache-control'], 'public, max-age=0, s-maxage=30, stale-while-revalidate=30, stale-if-error=300');
    assert.equal(res.headers['cdn-cache-control'], 'max-age=30, stale-while-revalidate=30, stale-if-error=300', 'the edge gets its own lifetime (RFC 9213)');
    assert.equal(res.headers['cache-tag'], 'home');
    assert.ok(res.headers['x-request-id']);
  });

  it('serves a post, a page and a tag listing with their cache tags', async () => {
    const post = await request(app.server).get('/posts/the-hardware').expect(200);
    assert.match(post.text, /<h1>The hardware<\/h1>/);
    assert.match(post.text, /<table>/, 'Markdown tables are rendered');
    assert.equal(post.headers['cache-tag'], 'post:the-hardware');
    const page = await request(app.server).get('/pages/about').expect(200);
    assert.match(page.text, /About this site/);
    assert.equal(page.headers['cache-tag'], 'page:about');
    const tag = await request(app.server).get('/tags/cluster').expect(200);
    assert.match(tag.text, /What is the Dramble\?/);
    assert.match(tag.text, /The hardware/);
    assert.doesNotMatch(tag.text, /How it is built/);
    assert.equal(tag.headers['cache-tag'], 'tag:cluster');
  });

  it('answers 404 with a friendly page for unknown posts, pages, tags and paths', async () => {
    for (const path of ['/posts/nope', '/pages/the-hardware', '/tags/nothing-here', '/no/such/path', '/posts/Bad%20Slug', '/?page=99', '/?page=x']) {
      const res = await request(app.server).get(path);
      assert.equal(res.status, 404, path);
      assert.match(res.text, /Page not found/, path);
      assert.equal(res.headers['cache-control'], 'private, no-store', path);
    }
  });

  it('publishes an Atom feed, a sitemap and robots.txt', async () => {
    const feed = await request(app.server).get('/feed.xml').expect(200);
    assert.match(feed.headers['content-type']!, /application\/atom\+xml/);
    assert.match(feed.text, /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
    assert.equal((feed.text.match(/<entry>/g) ?? []).length, 3);
    assert.equal(feed.headers['cache-tag'], 'feed');
    const sm = await request(app.server).get('/sitemap.xml').expect(200);
    assert.match(sm.text, /\/posts\/what-is-the-dramble<\/loc>/);
    assert.match(sm.text, /\/pages\/about<\/loc>/);
    assert.equal(sm.headers['cache-tag'], 'sitemap');
    const robots = await request(app.server).get('/robots.txt').expect(200);
    assert.match(robots.text, /Disallow: \/editor/);
    assert.match(robots.text, /Sitemap: http:\/\/.*\/sitemap.xml/);
  });

  it('serves hashed static assets with year-long immutable caching', async () => {
    const home = await request(app.server).get('/').expect(200);
    const css = /href="(\/static\/site\.[0-9a-f]{10}\.css)"/.exec(home.text)?.[1];
    assert.ok(css, 'the layout links a hashed stylesheet');
    const res = await request(app.server).get(css).expect(200);
    assert.match(res.headers['content-type']!, /text\/css/);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    await request(app.server).get('/static/site.0000000000.css').expect(404);
  });

  it('sends a strict Content-Security-Policy and other security headers', async () => {
    const res = await request(app.server).get('/').expect(200);
    const csp = res.headers['content-security-policy']!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-powered-by'], undefined);
    assert.doesNotMatch(res.text, /<script>|\son\w+=/, 'no inline scripts or handlers');
  });

  it('serves anonymous pages from the Redis page cache after the first render', async () => {
    await request(app.server).get('/pages/about').expect(200); // may be a hit already from an earlier test
    const hitsBefore = await metricValue(app, 'dramble_app_page_cache_total', { result: 'hit' });
    const res = await request(app.server).get('/pages/about').expect(200);
    assert.equal(res.headers['x-page-cache'], 'HIT');
    assert.match(res.text, /About this site/);
    assert.equal(await metricValue(app, 'dramble_app_page_cache_total', { result: 'hit' }), hitsBefore + 1);
    assert.ok(res.headers['etag']);
    await request(app.server).get('/pages/about').set('If-None-Match', res.headers['etag']!).expect(304);
  });

  it('answers a cache hit before express with the same headers and body as express sends', async () => {
    const url = '/posts/the-hardware';
    await request(app.server).get(url).expect(200);
    const fast = await request(app.server).get(url).set('X-Request-Id', 'edge-1').expect(200);
    // A session cookie that names no session goes through express and is served as anonymous.
    const slow = await request(app.server).get(url).set('Cookie', 'dramble_session=nobody').set('X-Request-Id', 'edge-2').expect(200);
    assert.equal(fast.headers['x-page-cache'], 'HIT');
    assert.equal(fast.headers['x-request-id'], 'edge-1');
    assert.equal(fast.text, slow.text);
    const comparable = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date' && k !== 'x-request-id'));
    assert.deepEqual(comparable(fast.headers), comparable(slow.headers));

    const head = await request(app.server).head(url).expect(200);
    assert.equal(head.headers['content-length'], fast.headers['content-length']);
    assert.equal(head.headers['etag'], fast.headers['etag']);
    const etag = fast.headers['etag']!;
    const notModified = await request(app.server).get(url).set('If-None-Match', `"other", ${etag}`).expect(304);
    assert.equal(notModified.headers['etag'], etag);
    assert.equal(notModified.headers['content-type'], undefined);
    assert.match(notModified.headers['content-security-policy']!, /default-src 'none'/);
    await request(app.server).get(url).set('If-None-Match', etag).set('Cache-Control', 'no-cache').expect(200);
    const metrics = await (await fetch(`${app.adminUrl}/metrics`)).text();
    assert.match(metrics, /dramble_app_http_request_duration_seconds_count\{[^}]*method="HEAD"[^}]*route="\/posts\/:slug"[^}]*status="200"/);
    assert.match(metrics, /dramble_app_http_request_duration_seconds_count\{[^}]*route="\/posts\/:slug"[^}]*status="304"/);
  });

  it('shows which instance and node served the request on /cluster, with a live event stream', async () => {
    const res = await request(app.server).get('/cluster').expect(200);
    assert.match(res.text, /id="served-instance">app-test-1</);
    assert.match(res.text, /on node <strong>pi-2<\/strong>/);
    assert.match(res.text, /No topology published yet/);
    assert.match(res.text, new RegExp(`127\\.0\\.0\\.1:${stack.cluster.primary.port}`));
    assert.match(res.text, /serving reads/);
    assert.equal(res.headers['cache-control'], 'private, no-store');

    const events = await fetch(`${app.publicUrl}/cluster/events`);
    assert.equal(events.status, 200);
    assert.match(events.headers.get('content-type')!, /text\/event-stream/);
    const reader = events.body!.getReader();
    let text = '';
    while (!/event: snapshot\ndata: .*\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    await reader.cancel();
    const data = JSON.parse(/event: snapshot\ndata: (.*)\n/.exec(text)![1]!);
    assert.equal(data.served.instance, 'app-test-1');
    assert.ok(data.instances.some((i: { name: string }) => i.name === 'app-test-1'), 'the instance heartbeats into Redis');
    assert.equal(data.topology.primary.port, stack.cluster.primary.port);
  });

  it('reports health, readiness with the schema version, and metrics on the admin listener', async () => {
    const health = await fetch(`${app.adminUrl}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${app.adminUrl}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean; detail?: { schemaVersion: number } }> };
    assert.equal(body.checks['migrations']?.detail?.schemaVersion, latestVersion());
    assert.equal(body.checks['redis']?.ok, true);
    assert.equal(body.checks['mysql-primary']?.ok, true);
    const metrics = await (await fetch(`${app.adminUrl}/metrics`)).text();
    assert.match(metrics, /dramble_app_http_request_duration_seconds_bucket\{[^}]*route="\/posts\/:slug"/);
    assert.match(metrics, /dramble_app_page_cache_hit_ratio/);
    assert.match(metrics, /dramble_app_db_pool_connections\{/);
    assert.match(metrics, /dramble_app_db_reads_total\{[^}]*target="replica"/);
  });

  it('drops cached pages by tag through the admin API, with the admin token only', async () => {
    await request(app.server).get('/posts/what-is-the-dramble').expect(200);
    assert.equal((await request(app.server).get('/posts/what-is-the-dramble').expect(200)).headers['x-page-cache'], 'HIT');
    const call = (auth?: string, body: unknown = { tags: ['post:what-is-the-dramble'] }) =>
      fetch(`${app.adminUrl}/api/cache/invalidate`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify(body) });
    assert.equal((await call()).status, 401);
    assert.equal((await call('Bearer wrong')).status, 401);
    assert.equal((await call('Bearer admin-secret', { tags: 'nope' })).status, 400);
    assert.equal((await request(app.server).get('/posts/what-is-the-dramble').expect(200)).headers['x-page-cache'], 'HIT');
    const ok = await call('Bearer admin-secret');
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { invalidated: 1 });
    assert.equal((await request(app.server).get('/posts/what-is-the-dramble').expect(200)).headers['x-page-cache'], 'MISS');
  });
});
