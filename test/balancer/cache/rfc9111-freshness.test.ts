// RFC 9111 freshness and directives through the whole balancer, against a real origin that
// records what reaches it. Each test says whether the answer came from the cache (X-Cache) and
// what the origin saw.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { answer, fetchEdge, startEdge, startOrigin, type Edge, type Origin } from './origin.js';

let origin: Origin;
let edge: Edge;
let n = 0;
/** A fresh path per test, so tests do not share entries. */
const path = (name: string): string => `/${name}-${++n}`;

before(async () => {
  origin = await startOrigin();
  edge = await startEdge(origin);
});
after(async () => {
  await edge.close();
  await origin.close();
});

const get = (p: string, headers: Record<string, string> = {}) => fetchEdge(`${edge.base}${p}`, { headers });

describe('RFC 9111 §4.2.1 freshness lifetime: s-maxage, max-age, Expires', () => {
  it('serves from cache within max-age and goes to the origin after it', async () => {
    const p = path('max-age');
    origin.route(p, answer((i) => `v${i}`, { 'cache-control': 'max-age=10' }));
    assert.equal((await get(p)).fromCache, false);
    edge.clock.advance(9_000);
    const hit = await get(p);
    assert.ok(hit.fromCache);
    assert.equal(hit.body, 'v1');
    edge.clock.advance(2_000);
    const after = await get(p);
    assert.equal(after.fromCache, false);
    assert.equal(after.body, 'v2');
    assert.equal(origin.hits(p).length, 2);
  });

  it('lets s-maxage win over max-age for this shared cache', async () => {
    const p = path('s-maxage');
    origin.route(p, answer('x', { 'cache-control': 'max-age=1, s-maxage=100' }));
    await get(p);
    edge.clock.advance(50_000);
    assert.ok((await get(p)).fromCache);
    assert.equal(origin.hits(p).length, 1);
  });

  it('uses the first of duplicate max-age directives', async () => {
    const p = path('dup');
    origin.route(p, answer('x', { 'cache-control': ['max-age=100', 'max-age=0'] }));
    await get(p);
    assert.ok((await get(p)).fromCache);
  });

  it('treats quoted, negative and non-numeric max-age as already stale', async () => {
    for (const cc of ['max-age="100"', 'max-age=-100', 'max-age=1.5', 'max-age=abc']) {
      const p = path('bad-max-age');
      // With an ETag the entry is kept, but every use needs the origin.
      origin.route(p, answer('x', { 'cache-control': cc, etag: '"e"' }));
      await get(p);
      const second = await get(p);
      assert.equal(origin.hits(p).length, 2, `${cc}: the second request reached the origin`);
      assert.equal(origin.hits(p)[1]!.headers['if-none-match'], '"e"', `${cc}: as a revalidation`);
      assert.equal(second.status, 200);
    }
  });

  it('uses Expires minus Date when there is no max-age, and reads an invalid Expires as stale', async () => {
    const date = new Date(edge.clock.now).toUTCString();
    const good = path('expires');
    origin.route(good, answer('x', { date, expires: new Date(edge.clock.now + 100_000).toUTCString() }));
    await get(good);
    edge.clock.advance(50_000);
    assert.ok((await get(good)).fromCache, 'within Expires');
    const bad = path('expires-bad');
    origin.route(bad, answer('x', { expires: '0', 'last-modified': new Date(0).toUTCString() }));
    await get(bad);
    assert.equal((await get(bad)).fromCache, false, 'Expires: 0 is in the past; no heuristic either');
  });

  it('counts the Age the response arrived with (and ignores an invalid one)', async () => {
    const p = path('age');
    origin.route(p, answer('x', { 'cache-control': 'max-age=100', age: '90' }));
    await get(p);
    edge.clock.advance(5_000);
    const hit = await get(p);
    assert.ok(hit.fromCache);
    assert.equal(hit.headers['age'], '95');
    edge.clock.advance(6_000);
    assert.equal((await get(p)).fromCache, false, '90 + 11 seconds is past max-age=100');
    const bad = path('age-bad');
    origin.route(bad, answer('x', { 'cache-control': 'max-age=100', age: '90x' }));
    await get(bad);
    edge.clock.advance(20_000);
    assert.ok((await get(bad)).fromCache, 'an invalid Age is ignored');
  });
});

describe('RFC 9111 §4.2.2 heuristic freshness', () => {
  it('caches a 200 with only Last-Modified for 10% of its age, capped', async () => {
    const p = path('heuristic');
    const date = new Date(edge.clock.now).toUTCString();
    origin.route(p, answer('x', { date, 'last-modified': new Date(edge.clock.now - 1000_000).toUTCString() }));
    await get(p);
    edge.clock.advance(90_000);
    const hit = await get(p);
    assert.ok(hit.fromCache, 'within 10% of 1000 s');
    edge.clock.advance(20_000);
    assert.equal((await get(p)).fromCache, false, 'past 100 s');
  });

  it('does not apply a heuristic when Cache-Control forbids it or the status is not heuristically cacheable', async () => {
    const lm = new Date(edge.clock.now - 1000_000).toUTCString();
    const noCache = path('heur-no-cache');
    origin.route(noCache, answer('x', { 'last-modified': lm, 'cache-control': 'no-cache' }));
    const redirect = path('heur-302');
    origin.route(redirect, answer('x', { 'last-modified': lm, location: '/' }, 302));
    for (const p of [noCache, redirect]) {
      await get(p);
      await get(p);
      assert.equal(origin.hits(p).length, 2, p);
    }
  });

  it('stores non-200 statuses that are cacheable: 203, 204, 300, 301, 308, 404, 405, 410, 414, 501', async () => {
    for (const status of [203, 204, 300, 301, 308, 404, 405, 410, 414, 501]) {
      const p = path(`status-${status}`);
      origin.route(p, answer(status === 204 ? '' : 'x', { 'cache-control': 'max-age=60', location: '/' }, status));
      await get(p);
      const again = await get(p);
      assert.equal(again.status, status);
      assert.ok(again.fromCache, `${status} served from cache`);
      assert.equal(origin.hits(p).length, 1);
    }
  });
});

describe('RFC 9111 §5.2.1 request directives', () => {
  it('no-cache and Pragma: no-cache revalidate a fresh entry with its validators', async () => {
    const p = path('req-no-cache');
    origin.route(p, (req, res) => {
      if (req.headers['if-none-match'] === '"v"') {
        res.writeHead(304, { etag: '"v"', 'cache-control': 'max-age=60' });
        return res.end();
      }
      answer('body', { 'cache-control': 'max-age=60', etag: '"v"' })(req, res, 0);
    });
    await get(p);
    const r = await get(p, { 'cache-control': 'no-cache' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'body');
    assert.equal(origin.hits(p).length, 2);
    assert.equal(origin.hits(p)[1]!.headers['if-none-match'], '"v"');
    assert.match(String(r.headers['cache-status']), /fwd=request; fwd-status=304/);
    await get(p, { pragma: 'no-cache' });
    assert.equal(origin.hits(p).length, 3, 'Pragma: no-cache without Cache-Control');
    await get(p, { pragma: 'no-cache', 'cache-control': 'max-stale' });
    assert.equal(origin.hits(p).length, 3, 'Pragma is ignored when Cache-Control is present');
  });

  it('max-age=0 and max-age below the current age go to the origin', async () => {
    const p = path('req-max-age');
    origin.route(p, answer((i) => `v${i}`, { 'cache-control': 'max-age=100' }));
    await get(p);
    edge.clock.advance(10_000);
    assert.ok((await get(p, { 'cache-control': 'max-age=20' })).fromCache);
    assert.equal((await get(p, { 'cache-control': 'max-age=5' })).body, 'v2');
    assert.equal((await get(p, { 'cache-control': 'max-age=0' })).body, 'v3');
  });

  it('min-fresh wants that much freshness left', async () => {
    const p = path('min-fresh');
    origin.route(p, answer((i) => `v${i}`, { 'cache-control': 'max-age=100' }));
    await get(p);
    edge.clock.advance(60_000);
    assert.ok((await get(p, { 'cache-control': 'min-fresh=30' })).fromCache);
    assert.equal((await get(p, { 'cache-control': 'min-fresh=50' })).fromCache, false);
  });

  it('max-stale accepts a stale entry, but not past must-revalidate', async () => {
    const p = path('max-stale');
    origin.route(p, answer((i) => `v${i}`, { 'cache-control': 'max-age=10' }));
    const strict = path('max-stale-mr');
    origin.route(strict, answer((i) => `v${i}`, { 'cache-control': 'max-age=10, must-revalidate' }));
    await get(p);
    await get(strict);
    edge.clock.advance(30_000);
    const stale = await get(p, { 'cache-control': 'max-stale=60' });
    assert.ok(stale.fromCache);
    assert.equal(stale.headers['x-cache'], 'STALE');
    assert.equal((await get(p, { 'cache-control': 'max-stale=5' })).fromCache, false);
    assert.equal((await get(strict, { 'cache-control': 'max-stale' })).fromCache, false, 'must-revalidate wins');
  });

  it('only-if-cached answers from the cache or 504 without asking the origin', async () => {
    const p = path('oic');
    origin.route(p, answer('x', { 'cache-control': 'max-age=10' }));
    const miss = await get(p, { 'cache-control': 'only-if-cached' });
    assert.equal(miss.status, 504);
    assert.equal(origin.hits(p).length, 0);
    await get(p);
    assert.ok((await get(p, { 'cache-control': 'only-if-cached' })).fromCache);
    edge.clock.advance(20_000);
    assert.equal((await get(p, { 'cache-control': 'only-if-cached' })).status, 504, 'stale needs the origin');
    assert.equal(origin.hits(p).length, 1);
  });

  it('no-store in the request keeps the answer out of the cache', async () => {
    const p = path('req-no-store');
    origin.route(p, answer('x', { 'cache-control': 'max-age=60' }));
    await get(p, { 'cache-control': 'no-store' });
    assert.equal((await get(p)).fromCache, false);
  });
});

describe('RFC 9111 §5.2.2 response directives', () => {
  it('no-cache: stored, but revalidated with the origin before every use', async () => {
    const p = path('resp-no-cache');
    origin.route(p, (req, res) => {
      if (req.headers['if-none-match'] === '"a"') {
        res.writeHead(304, { etag: '"a"', 'cache-control': 'no-cache' });
        return res.end();
      }
      answer('body', { 'cache-control': 'no-cache', etag: '"a"' })(req, res, 0);
    });
    await get(p);
    const r = await get(p);
    assert.equal(r.body, 'body');
    assert.equal(origin.hits(p).length, 2);
    assert.equal(origin.hits(p)[1]!.headers['if-none-match'], '"a"');
  });

  it('no-cache="field" and private="field": stored without those fields', async () => {
    const p = path('qualified');
    origin.route(p, answer('x', { 'cache-control': 'max-age=60, no-cache="x-secret", private="x-user"', 'x-secret': 's', 'x-user': 'u', 'x-kept': 'k' }));
    const first = await get(p);
    assert.equal(first.headers['x-secret'], 's', 'the first client gets the origin response as is');
    const hit = await get(p);
    assert.ok(hit.fromCache);
    assert.equal(hit.headers['x-secret'], undefined);
    assert.equal(hit.headers['x-user'], undefined);
    assert.equal(hit.headers['x-kept'], 'k');
  });

  it('never gives a Set-Cookie to a second client', async () => {
    const plain = path('set-cookie');
    origin.route(plain, answer('x', { 'cache-control': 'max-age=60', 'set-cookie': 'id=1' }));
    await get(plain);
    const second = await get(plain);
    assert.equal(second.fromCache, false);
    const allowed = path('set-cookie-private');
    origin.route(allowed, answer('x', { 'cache-control': 'max-age=60, private="set-cookie"', 'set-cookie': 'id=2' }));
    assert.equal((await get(allowed)).headers['set-cookie'], 'id=2');
    const hit = await get(allowed);
    assert.ok(hit.fromCache);
    assert.equal(hit.headers['set-cookie'], undefined);
  });

  it('private and no-store are never stored; must-understand lets a known status be stored despite no-store', async () => {
    for (const cc of ['private, max-age=60', 'no-store, max-age=60']) {
      const p = path('nostore');
      origin.route(p, answer('x', { 'cache-control': cc }));
      await get(p);
      assert.equal((await get(p)).fromCache, false, cc);
    }
    const mu = path('must-understand');
    origin.route(mu, answer('x', { 'cache-control': 'max-age=60, no-store, must-understand' }));
    await get(mu);
    assert.ok((await get(mu)).fromCache);
  });

  it('must-revalidate / proxy-revalidate: a stale entry is not served when the origin fails', async () => {
    for (const cc of ['max-age=1, must-revalidate', 'max-age=1, proxy-revalidate', 's-maxage=1']) {
      const p = path('mr');
      origin.route(p, (req, res, i) => (i === 1 ? answer('good', { 'cache-control': cc })(req, res, i) : answer('down', {}, 500)(req, res, i)));
      await get(p);
      edge.clock.advance(5_000);
      const r = await get(p);
      assert.equal(r.status, 500, cc);
    }
    const lenient = path('mr-default');
    origin.route(lenient, (req, res, i) => (i === 1 ? answer('good', { 'cache-control': 'max-age=1' })(req, res, i) : answer('down', {}, 500)(req, res, i)));
    await get(lenient);
    edge.clock.advance(5_000);
    const r = await get(lenient);
    assert.equal(r.status, 200, 'without must-revalidate the configured stale-if-error applies');
    assert.equal(r.headers['x-cache'], 'STALE');
  });

  it('stale-if-error and stale-while-revalidate from the response, stale-if-error from the request', async () => {
    const p = path('sie');
    origin.route(p, (req, res, i) => (i === 1 ? answer('good', { 'cache-control': 'max-age=1, must-revalidate, stale-if-error=60' })(req, res, i) : answer('down', {}, 503)(req, res, i)));
    await get(p);
    edge.clock.advance(30_000);
    assert.equal((await get(p)).headers['x-cache'], 'STALE', 'explicit stale-if-error');
    const q = path('req-sie');
    origin.route(q, (req, res, i) => (i === 1 ? answer('good', { 'cache-control': 'max-age=1, stale-if-error=5' })(req, res, i) : answer('down', {}, 503)(req, res, i)));
    await get(q);
    edge.clock.advance(30_000);
    assert.equal((await get(q)).status, 503, 'past the response stale-if-error');
    assert.equal((await get(q, { 'cache-control': 'stale-if-error=60' })).headers['x-cache'], 'STALE', 'the client accepts more');
  });

  it('CDN-Cache-Control gives the edge its own lifetime (RFC 9213), Cache-Control still reaches browsers', async () => {
    const p = path('cdn-cc');
    origin.route(p, answer('x', { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' }));
    await get(p);
    const hit = await get(p);
    assert.ok(hit.fromCache);
    assert.equal(hit.headers['cache-control'], 'no-store');
    const bad = path('cdn-cc-invalid');
    origin.route(bad, answer('x', { 'cache-control': 'max-age=60', 'cdn-cache-control': '=== junk' }));
    await get(bad);
    assert.ok((await get(bad)).fromCache, 'an invalid CDN-Cache-Control falls back to Cache-Control');
  });

  it('no-transform: the edge does not compress the body', async () => {
    const p = path('no-transform');
    origin.route(p, answer('y'.repeat(5000), { 'cache-control': 'max-age=60, no-transform', 'content-type': 'text/html' }));
    for (let i = 0; i < 2; i++) {
      const r = await get(p, { 'accept-encoding': 'gzip, br' });
      assert.equal(r.headers['content-encoding'], undefined);
      assert.equal(r.body.length, 5000);
    }
  });
});
