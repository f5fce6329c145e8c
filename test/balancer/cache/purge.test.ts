// Purging the edge cache through the admin API, as the app does when content changes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { cacheAdminRoutes } from '../../../services/balancer/src/cache/index.js';
import { startBackend, startFront, get, respond, metricValue, type Backend, type Front } from './harness.js';

const TOKEN = 'purge-test-token';

describe('cache admin API', () => {
  let backend: Backend;
  let front: Front;
  let admin: http.Server;
  let adminUrl: string;
  before(async () => {
    backend = await startBackend();
    front = await startFront(backend.url);
    const routes = cacheAdminRoutes(front.layer, { purge: TOKEN, drain: undefined });
    admin = http.createServer((req, res) => {
      if (!routes(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
    adminUrl = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
    for (const path of ['/posts/a', '/posts/b', '/posts/b?page=2', '/about', '/feed']) {
      const slug = path.split('/').pop();
      backend.route(path.split('?')[0]!, respond(`content of ${path}`, { 'cache-control': 's-maxage=600', 'cache-tag': `post:${slug}, feed` }));
    }
  });
  after(async () => {
    await new Promise<void>((r) => admin.close(() => r()));
    await front.close();
    await backend.close();
  });

  async function warm(...paths: string[]): Promise<void> {
    for (const p of paths) await get(`${front.url}${p}`);
    for (const p of paths) assert.equal((await get(`${front.url}${p}`)).headers['x-cache'], 'HIT', `${p} cached`);
  }

  async function purge(body: unknown, token: string | null = TOKEN): Promise<{ status: number; json: Record<string, unknown> }> {
    const r = await request(`${adminUrl}/api/cache/purge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.statusCode, json: (await r.body.json()) as Record<string, unknown> };
  }

  const xcache = async (p: string) => (await get(`${front.url}${p}`)).headers['x-cache'];

  it('refuses a purge without the bearer token (401) or with a wrong one', async () => {
    await warm('/about');
    assert.equal((await purge({ urls: ['/about'] }, null)).status, 401);
    assert.equal((await purge({ urls: ['/about'] }, 'wrong')).status, 401);
    assert.equal(await xcache('/about'), 'HIT');
  });

  it('rejects a malformed purge body with 400 and the field at fault', async () => {
    const bad = await purge({ urls: 'not-a-list' });
    assert.equal(bad.status, 400);
    assert.ok((bad.json['fieldErrors'] as Record<string, unknown>)['urls'], 'names the field');
    assert.equal((await purge({})).status, 400, 'an empty purge is a mistake, not a no-op');
    assert.equal((await purge({ urls: ['/x'], everything: true })).status, 400, 'unknown keys are refused');
    assert.equal((await purge('{not json')).status, 400);
  });

  it('purges one exact URL', async () => {
    await warm('/posts/a', '/posts/b', '/posts/b?page=2');
    const r = await purge({ urls: ['/posts/b'] });
    assert.deepEqual(r, { status: 200, json: { purged: 1 } });
    assert.equal(await xcache('/posts/b'), 'MISS');
    assert.equal(await xcache('/posts/b?page=2'), 'HIT');
    assert.equal(await xcache('/posts/a'), 'HIT');
  });

  it('purges by prefix, also given as an absolute URL of the site', async () => {
    await warm('/posts/a', '/posts/b', '/posts/b?page=2', '/about');
    assert.equal((await purge({ prefixes: ['/posts/'] })).json['purged'], 3);
    assert.equal(await xcache('/posts/a'), 'MISS');
    assert.equal(await xcache('/posts/b?page=2'), 'MISS');
    assert.equal(await xcache('/about'), 'HIT');
    await warm('/posts/a', '/posts/b', '/posts/b?page=2');
    const host = new URL(front.url).host;
    assert.equal((await purge({ prefixes: [`http://other.example/posts/`] })).json['purged'], 0, 'another host is not this site');
    assert.equal((await purge({ prefixes: [`http://${host}/posts/`] })).json['purged'], 3);
  });

  it('purges every entry carrying a Cache-Tag', async () => {
    await warm('/posts/a', '/posts/b', '/about', '/feed');
    assert.equal((await purge({ tags: ['post:a'] })).json['purged'], 1);
    assert.equal(await xcache('/posts/a'), 'MISS');
    assert.equal(await xcache('/posts/b'), 'HIT');
    const all = await purge({ tags: ['feed'] });
    assert.ok((all.json['purged'] as number) >= 4);
    assert.equal(await xcache('/about'), 'MISS');
    assert.ok((await metricValue(front.registry, 'dramble_balancer_cache_purged_entries_total', { by: 'tag' })) >= 5);
  });

  it('reports entries, bytes and hit statistics on GET /api/cache', async () => {
    const r = await request(`${adminUrl}/api/cache`);
    assert.equal(r.statusCode, 200);
    const s = (await r.body.json()) as Record<string, number>;
    assert.equal(s['entries'], front.layer.stats().entries);
    assert.ok(s['entries']! > 0 && s['bytes']! > 0 && s['hits']! > 0 && s['misses']! > 0);
    assert.equal(s['maxBytes'], 32 * 1024 * 1024);
  });
});

describe('cache admin API without a configured token', () => {
  it('refuses every purge (401, saying no token is configured)', async () => {
    const backend = await startBackend();
    const front = await startFront(backend.url);
    const routes = cacheAdminRoutes(front.layer, { purge: undefined, drain: 'drain-only' });
    const admin = http.createServer((req, res) => void routes(req, res));
    await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
    try {
      const r = await request(`http://127.0.0.1:${(admin.address() as AddressInfo).port}/api/cache/purge`, {
        method: 'POST',
        headers: { authorization: 'Bearer anything' },
        body: JSON.stringify({ tags: ['x'] }),
      });
      assert.equal(r.statusCode, 401);
      assert.match(((await r.body.json()) as { error: string }).error, /no purge token is configured/);
    } finally {
      await new Promise<void>((r) => admin.close(() => r()));
      await front.close();
      await backend.close();
    }
  });
});
