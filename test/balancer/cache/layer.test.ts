// The edge cache against a real backend: what a visitor and an operator can rely on.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startFront, get, until, metricValue, respond, testSettings, type Backend, type Front } from './harness.js';

describe('edge cache layer', () => {
  let backend: Backend;
  let front: Front;
  before(async () => {
    backend = await startBackend();
    front = await startFront(backend.url, { cacheSessionCookies: ['sid'], cacheLockTimeoutMs: 60_000 });
  });
  after(async () => {
    await front.close();
    await backend.close();
  });

  it('serves a cacheable page from memory after the first request (MISS, then HIT with Age)', async () => {
    let n = 0;
    backend.route('/page', respond(() => `page v${++n}`, { 'cache-control': 'public, max-age=60', 'cache-tag': 'home' }));
    const first = await get(`${front.url}/page`);
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-cache'], 'MISS');
    assert.equal(first.body, 'page v1');
    assert.equal(first.headers['cache-tag'], undefined, 'Cache-Tag is for the balancer, not for browsers');
    front.clock.advance(5_000);
    const second = await get(`${front.url}/page`);
    assert.equal(second.headers['x-cache'], 'HIT');
    assert.equal(second.body, 'page v1');
    assert.equal(second.headers['age'], '5');
    assert.equal(second.headers['x-served-by'], 'pi-1', 'a hit still names the backend that produced it');
    assert.equal(second.headers['content-length'], String('page v1'.length));
    assert.equal(backend.hits.get('/page'), 1);
    const head = await get(`${front.url}/page`, {}, 'HEAD');
    assert.equal(head.headers['x-cache'], 'HIT');
    assert.equal(head.body, '');
  });

  it('prefers s-maxage over max-age and refetches once the lifetime is over', async () => {
    let n = 0;
    backend.route('/smax', respond(() => `v${++n}`, { 'cache-control': 'max-age=1000, s-maxage=10, must-revalidate' }));
    assert.equal((await get(`${front.url}/smax`)).body, 'v1');
    front.clock.advance(9_000);
    assert.equal((await get(`${front.url}/smax`)).headers['x-cache'], 'HIT');
    front.clock.advance(2_000);
    const after = await get(`${front.url}/smax`);
    assert.equal(after.headers['x-cache'], 'MISS');
    assert.equal(after.body, 'v2');
  });

  it('does not store responses that are private, no-store, without max-age or that set a cookie', async () => {
    const cases: Record<string, Record<string, string>> = {
      '/private': { 'cache-control': 'private, max-age=60' },
      '/nostore': { 'cache-control': 'no-store, max-age=60' },
      '/nomaxage': {},
      '/cookie': { 'cache-control': 'max-age=60', 'set-cookie': 'sid=abc; HttpOnly' },
      '/varystar': { 'cache-control': 'max-age=60', vary: '*' },
    };
    for (const [path, headers] of Object.entries(cases)) {
      backend.route(path, respond('personal', headers));
      for (let i = 0; i < 2; i++) assert.equal((await get(`${front.url}${path}`)).headers['x-cache'], 'MISS', path);
      assert.equal(backend.hits.get(path), 2, `${path} reaches the backend every time`);
    }
  });

  it('bypasses the cache for requests with Authorization or a session cookie, and for POST', async () => {
    backend.route('/shared', respond('anonymous view', { 'cache-control': 'max-age=60' }));
    assert.equal((await get(`${front.url}/shared`)).headers['x-cache'], 'MISS');
    assert.equal((await get(`${front.url}/shared`)).headers['x-cache'], 'HIT');
    const withSession = await get(`${front.url}/shared`, { cookie: 'theme=dark; sid=s3cret' });
    assert.equal(withSession.headers['x-cache'], 'BYPASS');
    const withOtherCookie = await get(`${front.url}/shared`, { cookie: 'theme=dark' });
    assert.equal(withOtherCookie.headers['x-cache'], 'HIT', 'cookies that are not session cookies do not bypass');
    const withAuth = await get(`${front.url}/shared`, { authorization: 'Bearer x' });
    assert.equal(withAuth.headers['x-cache'], 'BYPASS');
    assert.equal(backend.hits.get('/shared'), 3);
  });

  it('keeps one variant per value of the headers named in Vary', async () => {
    backend.route('/lang', (req, res) => {
      const body = req.headers['accept-language'] === 'de' ? 'Hallo' : 'Hello';
      res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'Accept-Language', 'content-type': 'text/plain' });
      res.end(body);
    });
    assert.equal((await get(`${front.url}/lang`, { 'accept-language': 'de' })).body, 'Hallo');
    const en = await get(`${front.url}/lang`, { 'accept-language': 'en' });
    assert.equal(en.body, 'Hello');
    assert.equal(en.headers['x-cache'], 'MISS');
    const de = await get(`${front.url}/lang`, { 'accept-language': 'de' });
    assert.equal(de.body, 'Hallo');
    assert.equal(de.headers['x-cache'], 'HIT');
    assert.equal((await get(`${front.url}/lang`, { 'accept-language': 'en' })).headers['x-cache'], 'HIT');
    assert.equal(backend.hits.get('/lang'), 2);
  });

  it('answers a matching If-None-Match from the cache with 304', async () => {
    backend.route('/etag', respond('tagged', { 'cache-control': 'max-age=60', etag: '"v1"' }));
    await get(`${front.url}/etag`);
    const r = await get(`${front.url}/etag`, { 'if-none-match': '"v1"' });
    assert.equal(r.status, 304);
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.equal((await get(`${front.url}/etag`, { 'if-none-match': '"v0"' })).status, 200);
    assert.equal(backend.hits.get('/etag'), 1);
  });

  it('coalesces concurrent misses for one URL into a single backend request', async () => {
    const held: (() => void)[] = [];
    backend.route('/hot', (_req, res) => {
      held.push(() => {
        res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
        res.end('hot page');
      });
    });
    const enteredBefore = front.entered();
    const all = Promise.all(Array.from({ length: 10 }, () => get(`${front.url}/hot`)));
    await until('10 requests in the layer and 1 at the backend', () => front.entered() - enteredBefore === 10 && held.length === 1);
    held[0]!();
    const rs = await all;
    assert.ok(rs.every((r) => r.status === 200 && r.body === 'hot page'));
    assert.equal(backend.hits.get('/hot'), 1);
    const results = rs.map((r) => r.headers['x-cache']).sort();
    assert.deepEqual(results, ['HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT', 'MISS']);
  });

  it('lets waiting requests go to the backend themselves when the answer is not cacheable', async () => {
    const held: (() => void)[] = [];
    backend.route('/uncacheable-hot', (_req, res) => {
      held.push(() => {
        res.writeHead(200, { 'cache-control': 'private', 'content-type': 'text/plain' });
        res.end('mine');
      });
    });
    const enteredBefore = front.entered();
    const all = Promise.all(Array.from({ length: 3 }, () => get(`${front.url}/uncacheable-hot`)));
    await until('3 requests in the layer', () => front.entered() - enteredBefore === 3 && held.length === 1);
    held[0]!();
    await until('the waiters reach the backend', () => held.length === 3);
    held[1]!();
    held[2]!();
    const rs = await all;
    assert.ok(rs.every((r) => r.status === 200 && r.body === 'mine' && r.headers['x-cache'] === 'MISS'));
  });

  it('serves stale while revalidating in the background, with one refresh', async () => {
    let n = 0;
    const held: (() => void)[] = [];
    backend.route('/swr', (_req, res) => {
      const body = `swr v${++n}`;
      const send = () => {
        res.writeHead(200, { 'cache-control': 'max-age=10, stale-while-revalidate=60', 'content-type': 'text/plain' });
        res.end(body);
      };
      if (n === 1) send();
      else held.push(send);
    });
    assert.equal((await get(`${front.url}/swr`)).body, 'swr v1');
    front.clock.advance(15_000);
    const a = await get(`${front.url}/swr`);
    const b = await get(`${front.url}/swr`);
    assert.equal(a.headers['x-cache'], 'STALE');
    assert.equal(a.body, 'swr v1');
    assert.equal(b.headers['x-cache'], 'STALE');
    await until('the background refresh reaches the backend', () => held.length === 1);
    assert.equal(backend.hits.get('/swr'), 2, 'two stale answers, one refresh');
    held[0]!();
    await until('the refreshed copy is served', async () => (await get(`${front.url}/swr`)).body === 'swr v2');
    const fresh = await get(`${front.url}/swr`);
    assert.equal(fresh.headers['x-cache'], 'HIT');
  });

  it('serves a stale copy when the backend answers 5xx, within stale-if-error', async () => {
    let fail = false;
    backend.route('/sie', (_req, res) => {
      if (fail) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('boom');
        return;
      }
      res.writeHead(200, { 'cache-control': 'max-age=10, stale-if-error=100', 'content-type': 'text/plain' });
      res.end('good copy');
    });
    await get(`${front.url}/sie`);
    fail = true;
    front.clock.advance(20_000);
    const r = await get(`${front.url}/sie`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-cache'], 'STALE');
    assert.equal(r.body, 'good copy');
    front.clock.advance(100_000);
    const gone = await get(`${front.url}/sie`);
    assert.equal(gone.status, 500, 'past stale-if-error the error goes through');
  });

  it('streams objects larger than the object limit through without storing them', async () => {
    const small = await startFront(backend.url, { cacheMaxObjectBytes: 1000 });
    try {
      const big = 'x'.repeat(5000);
      backend.route('/big', (_req, res) => {
        // chunked: the size is only known while streaming
        res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
        res.write(big.slice(0, 2500));
        res.end(big.slice(2500));
      });
      const a = await get(`${small.url}/big`);
      const b = await get(`${small.url}/big`);
      assert.equal(a.body, big);
      assert.equal(b.body, big);
      assert.equal(b.headers['x-cache'], 'MISS');
      assert.equal(small.layer.stats().entries, 0);
    } finally {
      await small.close();
    }
  });

  it('never stores a body the backend aborted midway', async () => {
    let n = 0;
    backend.route('/abort', (_req, res) => {
      n++;
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain', 'content-length': '100' });
      if (n === 1) {
        res.write('half of it');
        setImmediate(() => res.socket?.destroy());
      } else res.end('y'.repeat(100));
    });
    await assert.rejects(get(`${front.url}/abort`), 'the client sees an aborted response');
    const r = await get(`${front.url}/abort`);
    assert.equal(r.headers['x-cache'], 'MISS');
    assert.equal(r.body, 'y'.repeat(100));
    assert.equal((await get(`${front.url}/abort`)).headers['x-cache'], 'HIT');
  });

  it('counts hits, misses, bypasses, bytes and entries in the metrics', async () => {
    assert.ok((await metricValue(front.registry, 'dramble_balancer_cache_requests_total', { result: 'HIT' })) > 0);
    assert.ok((await metricValue(front.registry, 'dramble_balancer_cache_requests_total', { result: 'MISS' })) > 0);
    assert.ok((await metricValue(front.registry, 'dramble_balancer_cache_requests_total', { result: 'STALE' })) > 0);
    assert.ok((await metricValue(front.registry, 'dramble_balancer_cache_requests_total', { result: 'BYPASS' })) > 0);
    const stats = front.layer.stats();
    assert.equal(await metricValue(front.registry, 'dramble_balancer_cache_bytes'), stats.bytes);
    assert.equal(await metricValue(front.registry, 'dramble_balancer_cache_entries'), stats.entries);
    assert.ok(stats.entries > 0 && stats.bytes > 0);
  });
});

describe('edge cache when every backend is down', () => {
  it('keeps serving cached pages (200 STALE) and fails what it never had', async () => {
    const backend = await startBackend();
    const front = await startFront(backend.url, { cacheDefaultStaleIfErrorSeconds: 3600 });
    try {
      // max-age, not s-maxage: s-maxage implies proxy-revalidate (RFC 9111 §5.2.2.10), which rules out the configured stale-if-error.
      backend.route('/', respond('home page', { 'cache-control': 'max-age=5' }));
      assert.equal((await get(`${front.url}/`)).headers['x-cache'], 'MISS');
      await backend.close();
      front.clock.advance(60_000);
      const r = await get(`${front.url}/`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-cache'], 'STALE');
      assert.equal(r.body, 'home page');
      assert.equal((await get(`${front.url}/never-seen`)).status, 502);
      front.clock.advance(3600_000);
      assert.equal((await get(`${front.url}/`)).status, 502, 'past the stale-if-error window the copy is gone');
    } finally {
      await front.close();
      await backend.close();
    }
  });
});

describe('edge cache memory budget', () => {
  it('evicts the least recently used entries by bytes', async () => {
    const backend = await startBackend();
    // each entry is ~1.3 KB with headers and bookkeeping; three fit, four do not
    const front = await startFront(backend.url, { cacheMaxBytes: 4500 });
    try {
      for (const p of ['a', 'b', 'c', 'd']) backend.route(`/${p}`, respond(p.repeat(1000), { 'cache-control': 'max-age=600' }));
      for (const p of ['a', 'b', 'c']) await get(`${front.url}/${p}`);
      assert.equal(front.layer.stats().entries, 3);
      assert.equal((await get(`${front.url}/a`)).headers['x-cache'], 'HIT'); // a is now the most recent
      await get(`${front.url}/d`); // pushes out b, the least recently used
      assert.equal((await get(`${front.url}/a`)).headers['x-cache'], 'HIT');
      assert.equal((await get(`${front.url}/c`)).headers['x-cache'], 'HIT');
      assert.equal((await get(`${front.url}/d`)).headers['x-cache'], 'HIT');
      assert.equal((await get(`${front.url}/b`)).headers['x-cache'], 'MISS');
      assert.ok(front.layer.stats().bytes <= 4500);
      assert.ok((await metricValue(front.registry, 'dramble_balancer_cache_evictions_total')) >= 1);
    } finally {
      await front.close();
      await backend.close();
    }
  });
});

describe('edge cache reload', () => {
  it('applies a smaller budget, new session cookies and turning the cache off without a restart', async () => {
    const backend = await startBackend();
    const front = await startFront(backend.url);
    try {
      for (const p of ['a', 'b']) backend.route(`/${p}`, respond(p.repeat(1000), { 'cache-control': 'max-age=600' }));
      await get(`${front.url}/a`);
      await get(`${front.url}/b`);
      assert.equal(front.layer.stats().entries, 2);
      const base = testSettings();
      front.layer.reconfigure({ ...base, cacheMaxBytes: 2000, cacheSessionCookies: ['sess'] });
      assert.equal(front.layer.stats().entries, 1, 'the smaller budget evicted the least recently used entry');
      assert.equal((await get(`${front.url}/b`)).headers['x-cache'], 'HIT');
      assert.equal((await get(`${front.url}/b`, { cookie: 'sess=1' })).headers['x-cache'], 'BYPASS');
      front.layer.reconfigure({ ...base, cache: false });
      const off = await get(`${front.url}/b`);
      assert.equal(off.headers['x-cache'], undefined);
      assert.equal(off.body, 'b'.repeat(1000));
      assert.equal(front.layer.stats().entries, 0);
    } finally {
      await front.close();
      await backend.close();
    }
  });
});
