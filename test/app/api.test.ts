// The JSON API /api/v1 on real MariaDB and Redis: bearer tokens, CRUD, validation, conflicts,
// SQL metacharacters, read-your-writes, and exact cache invalidation with a purge to the balancer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { AppHandle } from '@dramble/app';
import { apiToken, metricValue, startStack, startTestApp, type Stack } from './helpers.js';

/** A stand-in for the balancer's admin listener that records purge calls. */
async function purgeRecorder(): Promise<{ url: string; calls: Array<{ auth: string | undefined; body: { tags?: string[] } }>; close(): Promise<void> }> {
  const calls: Array<{ auth: string | undefined; body: { tags?: string[] } }> = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/api/cache/purge') calls.push({ auth: req.headers.authorization, body: JSON.parse(text) as { tags?: string[] } });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"purged":0}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((r) => server.close(() => r())) };
}

describe('the content API', () => {
  let stack: Stack;
  let app: AppHandle;
  let token: string;
  let purges: Awaited<ReturnType<typeof purgeRecorder>>;
  const auth = (): Record<string, string> => ({ Authorization: `Bearer ${token}` });
  const count = async (): Promise<number> => Number((await stack.cluster.primary.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM api.content'))[0]!.n);

  before(async () => {
    stack = await startStack();
    purges = await purgeRecorder();
    app = await startTestApp(stack, 'api', ['--balancer-admin-url', purges.url, '--balancer-token', 'purge-secret']);
    token = await apiToken(app);
    await stack.cluster.sync();
  });
  after(async () => {
    await app?.close();
    await purges?.close();
    await stack?.destroy();
  });

  it('refuses requests without a valid bearer token', async () => {
    const none = await request(app.server).get('/api/v1/posts').expect(401);
    assert.equal(none.body.error, 'unauthorized');
    assert.match(none.headers['www-authenticate']!, /^Bearer/);
    await request(app.server).get('/api/v1/posts').set('Authorization', 'Bearer dr_not-a-real-token').expect(401);
    await request(app.server).post('/api/v1/posts').send({ title: 'x', slug: 'x' }).expect(401);
    await request(app.server).get('/api/v1/posts').set('Authorization', `Basic ${token}`).expect(401);
  });

  it('lists posts with paging and filters', async () => {
    const all = await request(app.server).get('/api/v1/posts').set(auth()).expect(200);
    assert.equal(all.body.total, 3);
    assert.equal(all.headers['cache-control'], 'private, no-store');
    const paged = await request(app.server).get('/api/v1/posts?per_page=2&page=2').set(auth()).expect(200);
    assert.equal(paged.body.items.length, 1);
    assert.equal(paged.body.page, 2);
    const tagged = await request(app.server).get('/api/v1/posts?tag=hardware').set(auth()).expect(200);
    assert.deepEqual(tagged.body.items.map((p: { slug: string }) => p.slug), ['the-hardware']);
    const drafts = await request(app.server).get('/api/v1/posts?status=draft').set(auth()).expect(200);
    assert.equal(drafts.body.total, 0);
    const pages = await request(app.server).get('/api/v1/pages').set(auth()).expect(200);
    assert.deepEqual(pages.body.items.map((p: { slug: string }) => p.slug), ['about']);
    const bad = await request(app.server).get('/api/v1/posts?per_page=1000&tag=%27%20OR%201%3D1').set(auth()).expect(400);
    assert.ok(bad.body.fields.per_page);
    assert.ok(bad.body.fields.tag);
  });

  it('creates, reads, updates and deletes a post', async () => {
    const created = await request(app.server)
      .post('/api/v1/posts')
      .set(auth())
      .send({ title: 'Via the API', slug: 'via-the-api', body: 'Hello **API**', tags: ['api'], status: 'published' })
      .expect(201);
    assert.equal(created.headers['location'], '/api/v1/posts/via-the-api');
    assert.equal(created.body.version, 1);
    assert.equal(created.body.bodyHtml, '<p>Hello <strong>API</strong></p>\n');
    assert.equal(created.body.author, 'admin');

    const got = await request(app.server).get('/api/v1/posts/via-the-api').set(auth()).expect(200);
    assert.equal(got.body.title, 'Via the API');
    assert.deepEqual(got.body.tags, ['api']);

    const updated = await request(app.server).patch('/api/v1/posts/via-the-api').set(auth()).send({ title: 'Via the API, edited', version: 1 }).expect(200);
    assert.equal(updated.body.version, 2);
    assert.equal(updated.body.body, 'Hello **API**', 'fields left out stay as they were');
    const page = await request(app.server).get('/posts/via-the-api').expect(200);
    assert.match(page.text, /Via the API, edited/);

    await request(app.server).delete('/api/v1/posts/via-the-api?version=1').set(auth()).expect(409);
    await request(app.server).delete('/api/v1/posts/via-the-api?version=2').set(auth()).expect(204);
    await request(app.server).get('/api/v1/posts/via-the-api').set(auth()).expect(404);
    await request(app.server).get('/posts/via-the-api').expect(404);
  });

  it('answers 400 with the field errors and writes nothing for a bad body', async () => {
    const before = await count();
    const res = await request(app.server).post('/api/v1/posts').set(auth()).send({ title: '', slug: 'UPPER case', tags: ['ok', 'ok'], status: 'live', extra: 1 }).expect(400);
    assert.deepEqual(Object.keys(res.body.fields).sort(), ['_', 'slug', 'status', 'tags', 'title']);
    const notJson = await request(app.server).post('/api/v1/posts').set(auth()).set('content-type', 'application/json').send('{"title": ').expect(400);
    assert.equal(notJson.body.message, 'the body is not valid JSON');
    const huge = await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'big', slug: 'big', body: 'x'.repeat(300_000) }).expect(413);
    assert.equal(huge.body.error, 'too large');
    const noVersion = await request(app.server).patch('/api/v1/posts/the-hardware').set(auth()).send({ title: 'no version' }).expect(400);
    assert.ok(noVersion.body.fields.version);
    assert.equal(await count(), before);
    const row = await stack.cluster.primary.query<Array<{ title: string }>>("SELECT title FROM api.content WHERE slug = 'the-hardware'");
    assert.equal(row[0]!.title, 'The hardware');
  });

  it('detects conflicting edits with the version (409) and keeps the first', async () => {
    await request(app.server).post('/api/v1/pages').set(auth()).send({ title: 'Team', slug: 'team', body: 'v1', status: 'published' }).expect(201);
    await request(app.server).put('/api/v1/pages/team').set(auth()).send({ body: 'alice', version: 1 }).expect(200);
    const conflict = await request(app.server).put('/api/v1/pages/team').set(auth()).send({ body: 'bob', version: 1 }).expect(409);
    assert.equal(conflict.body.currentVersion, 2);
    const got = await request(app.server).get('/api/v1/pages/team').set(auth()).expect(200);
    assert.equal(got.body.body, 'alice');
    const dup = await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'Team again', slug: 'team' }).expect(409);
    assert.ok(dup.body.fields.slug);
  });

  it('stores SQL metacharacters literally and shows them as text', async () => {
    const nasty = `Robert'); DROP TABLE content; -- "quoted" \\ back\\slash 100% _under_ \`tick\` ${'\u0000'.length ? 'NUL-free' : ''}`;
    const created = await request(app.server).post('/api/v1/posts').set(auth()).send({ title: nasty, slug: 'little-bobby-tables', summary: nasty, body: nasty, tags: ['sql'], status: 'published' }).expect(201);
    assert.equal(created.body.title, nasty);
    const got = await request(app.server).get('/api/v1/posts/little-bobby-tables').set(auth()).expect(200);
    assert.equal(got.body.title, nasty);
    assert.equal(got.body.summary, nasty);
    assert.equal(got.body.body, nasty);
    const tables = await stack.cluster.primary.query<unknown[]>("SHOW TABLES FROM api LIKE 'content'");
    assert.equal(tables.length, 1, 'the table is still there');
    const page = await request(app.server).get('/posts/little-bobby-tables').expect(200);
    assert.ok(page.text.includes('Robert&#39;); DROP TABLE content; -- &quot;quoted&quot; \\ back\\slash 100% _under_ `tick`'));
  });

  it('shows a write at once while the replica lags (read-your-writes), and reads from the replica again once it catches up', async () => {
    await stack.cluster.sync();
    const replica = stack.cluster.replicas[0]!;
    // Hold the replica's SQL thread behind a global read lock: it still answers reads, but stale ones.
    const lock = await replica.connect();
    try {
      await lock.query('FLUSH TABLES WITH READ LOCK');
      await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'Fresh', slug: 'fresh-write', status: 'published' }).expect(201);
      const primaryReads = await metricValue(app, 'dramble_app_db_reads_total', { target: 'primary' });
      const mine = await request(app.server).get('/api/v1/posts/fresh-write').set(auth()).expect(200);
      assert.equal(mine.body.title, 'Fresh');
      // Anonymous pages rendered now must not be older than the write either (they get cached).
      assert.match((await request(app.server).get('/posts/fresh-write').expect(200)).text, /Fresh/);
      assert.ok((await metricValue(app, 'dramble_app_db_reads_total', { target: 'primary' })) >= primaryReads + 2, 'answered by the primary');
      const onReplica = await replica.query<unknown[]>("SELECT id FROM api.content WHERE slug = 'fresh-write'");
      assert.equal(onReplica.length, 0, 'the replica really is behind');
    } finally {
      await lock.query('UNLOCK TABLES');
      await lock.end();
    }
    await stack.cluster.sync();
    const before = await metricValue(app, 'dramble_app_db_reads_total', { target: 'primary' });
    const again = await request(app.server).get('/api/v1/posts/fresh-write').set(auth()).expect(200);
    assert.equal(again.body.title, 'Fresh');
    assert.equal(await metricValue(app, 'dramble_app_db_reads_total', { target: 'primary' }), before, 'token and post both read from the replica');
  });

  it('invalidates exactly the cached pages an edit affects and asks the balancer to purge their tags', async () => {
    await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'Cache me', slug: 'cache-me', tags: ['alpha'], status: 'published' }).expect(201);
    await stack.cluster.sync();
    const paths = ['/', '/posts/cache-me', '/tags/alpha', '/posts/the-hardware', '/pages/about', '/feed.xml', '/sitemap.xml', '/tags/hardware'];
    for (const p of paths) await request(app.server).get(p).expect(200);
    for (const p of paths) assert.equal((await request(app.server).get(p).expect(200)).headers['x-page-cache'], 'HIT', p);

    purges.calls.length = 0;
    await request(app.server).patch('/api/v1/posts/cache-me').set(auth()).send({ title: 'Cached no more', tags: ['beta'], version: 1 }).expect(200);
    await stack.cluster.sync();
    assert.deepEqual(purges.calls, [{ auth: 'Bearer purge-secret', body: { tags: ['feed', 'home', 'post:cache-me', 'sitemap', 'tag:alpha', 'tag:beta'] } }]);

    const miss = ['/', '/posts/cache-me', '/feed.xml', '/sitemap.xml'];
    const hit = ['/posts/the-hardware', '/pages/about', '/tags/hardware'];
    for (const p of miss) assert.equal((await request(app.server).get(p).expect(200)).headers['x-page-cache'], 'MISS', p);
    for (const p of hit) assert.equal((await request(app.server).get(p).expect(200)).headers['x-page-cache'], 'HIT', p);
    assert.match((await request(app.server).get('/').expect(200)).text, /Cached no more/);
    await request(app.server).get('/tags/alpha').expect(404);
    assert.match((await request(app.server).get('/tags/beta').expect(200)).text, /Cached no more/);
  });

  it('does not invalidate or purge anything for an edit of a draft', async () => {
    await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'Quiet draft', slug: 'quiet-draft' }).expect(201);
    purges.calls.length = 0;
    await request(app.server).get('/').expect(200);
    await request(app.server).patch('/api/v1/posts/quiet-draft').set(auth()).send({ body: 'still a draft', version: 1 }).expect(200);
    assert.equal(purges.calls.length, 0);
    assert.equal((await request(app.server).get('/').expect(200)).headers['x-page-cache'], 'HIT');
  });

  it('pages the home page ten posts at a time', async () => {
    for (let i = 1; i <= 11; i++) {
      await request(app.server).post('/api/v1/posts').set(auth()).send({ title: `Paging post ${i}`, slug: `paging-post-${i}`, status: 'published' }).expect(201);
    }
    const first = await request(app.server).get('/').expect(200);
    assert.match(first.text, /Paging post 11/);
    assert.match(first.text, /<a rel="next" href="\/\?page=2">Older posts<\/a>/);
    const second = await request(app.server).get('/?page=2').expect(200);
    assert.match(second.text, /<h1>Posts, page 2<\/h1>/);
    assert.match(second.text, /<a rel="prev" href="\/">Newer posts<\/a>/);
    assert.equal(second.headers['cache-tag'], 'home');
    assert.doesNotMatch(second.text, /Paging post 11/);
  });
});
