// RFC 9111 validation, invalidation, Vary, Cache-Status/Age, Range and 1xx through the whole
// balancer, against a real origin that records what reaches it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { answer, fetchEdge, startEdge, startOrigin, type Edge, type Origin } from './origin.js';

let origin: Origin;
let edge: Edge;
let n = 0;
const path = (name: string): string => `/${name}-${++n}`;

before(async () => {
  origin = await startOrigin();
  edge = await startEdge(origin);
});
after(async () => {
  await edge.close();
  await origin.close();
});

const get = (p: string, headers: Record<string, string> = {}, method = 'GET') => fetchEdge(`${edge.base}${p}`, { headers, method });

describe('RFC 9111 §4.3 validation', () => {
  it('revalidates a stale entry with its ETag and Last-Modified; a 304 updates the stored headers and resets Age', async () => {
    const p = path('reval');
    const lm = new Date(edge.clock.now - 3600_000).toUTCString();
    origin.route(p, (req, res, i) => {
      if (i === 1) return answer('the body', { 'cache-control': 'max-age=10', etag: '"v1"', 'last-modified': lm, 'x-version': '1' })(req, res, i);
      res.writeHead(304, { 'cache-control': 'max-age=100', etag: '"v1"', 'x-version': '2', 'content-length': '999' });
      res.end();
    });
    await get(p);
    edge.clock.advance(20_000);
    const r = await get(p);
    const reval = origin.hits(p)[1]!;
    assert.equal(reval.headers['if-none-match'], '"v1"');
    assert.equal(reval.headers['if-modified-since'], lm);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'the body');
    assert.equal(r.headers['x-version'], '2', 'the 304 replaced the stored field');
    assert.equal(r.headers['content-length'], String('the body'.length), 'but not Content-Length');
    assert.equal(r.headers['age'], '0');
    edge.clock.advance(50_000);
    const hit = await get(p);
    assert.ok(hit.fromCache, 'fresh for the new max-age=100');
    assert.equal(hit.headers['age'], '50');
    assert.equal(origin.hits(p).length, 2);
  });

  it('answers a client conditional from the cache: 304 with validators, weak comparison, If-Modified-Since', async () => {
    const p = path('client-cond');
    const lm = new Date(edge.clock.now - 3600_000).toUTCString();
    origin.route(p, answer('x', { 'cache-control': 'max-age=60', etag: 'W/"w1"', 'last-modified': lm }));
    await get(p);
    const weak = await get(p, { 'if-none-match': '"other", "w1"' });
    assert.equal(weak.status, 304);
    assert.ok(weak.fromCache);
    assert.equal(weak.headers['etag'], 'W/"w1"');
    assert.equal(weak.headers['cache-control'], 'max-age=60');
    assert.ok(weak.headers['age'] !== undefined);
    assert.equal((await get(p, { 'if-none-match': '"nope"' })).status, 200);
    assert.equal((await get(p, { 'if-modified-since': new Date(edge.clock.now).toUTCString() })).status, 304);
    assert.equal((await get(p, { 'if-modified-since': new Date(edge.clock.now - 7200_000).toUTCString() })).status, 200);
    assert.equal(origin.hits(p).length, 1);
  });

  it('fills a miss without the client validators and answers them from what it fetched', async () => {
    const p = path('cond-miss');
    origin.route(p, answer('x', { 'cache-control': 'max-age=60', etag: '"m"' }));
    const r = await get(p, { 'if-none-match': '"m"' });
    assert.equal(r.status, 304);
    assert.equal(origin.hits(p)[0]!.headers['if-none-match'], undefined, 'the origin was asked for the whole response');
    const full = await get(p);
    assert.ok(full.fromCache);
    assert.equal(full.body, 'x');
  });

  it('HEAD freshens a stored GET when the validators match, and drops it when they do not', async () => {
    const p = path('head');
    origin.route(p, (req, res, i) => {
      const etag = i <= 2 ? '"h1"' : '"h2"';
      answer(`body${i}`, { 'cache-control': 'max-age=10', etag, 'x-seen': String(i) })(req, res, i);
    });
    await get(p);
    edge.clock.advance(20_000);
    const head = await get(p, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(origin.hits(p)[1]!.method, 'HEAD', 'the HEAD went to the origin as HEAD');
    const after = await get(p);
    assert.ok(after.fromCache, 'the stored GET is fresh again');
    assert.equal(after.body, 'body1');
    assert.equal(after.headers['x-seen'], '2', 'with the HEAD answer fields');
    edge.clock.advance(20_000);
    await get(p, {}, 'HEAD');
    const replaced = await get(p);
    assert.equal(replaced.fromCache, false, 'a HEAD with another ETag invalidated the stored GET');
  });
});

describe('RFC 5861 stale-while-revalidate', () => {
  it('answers stale at once and revalidates in the background with the stored ETag; the 304 freshens the entry', async () => {
    const p = path('swr');
    origin.route(p, (req, res, i) => {
      if (i > 1 && req.headers['if-none-match'] === '"s1"') {
        res.writeHead(304, { etag: '"s1"', 'cache-control': 'max-age=10, stale-while-revalidate=60', 'x-refreshed': String(i) });
        return res.end();
      }
      answer('swr body', { 'cache-control': 'max-age=10, stale-while-revalidate=60', etag: '"s1"' })(req, res, i);
    });
    await get(p);
    edge.clock.advance(20_000);
    const stale = await get(p);
    assert.equal(stale.headers['x-cache'], 'STALE');
    assert.equal(stale.body, 'swr body');
    const deadline = Date.now() + 5_000;
    while (origin.hits(p).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(origin.hits(p)[1]!.headers['if-none-match'], '"s1"', 'the background request was conditional');
    let fresh = await get(p);
    while (fresh.headers['x-refreshed'] === undefined && Date.now() < deadline) fresh = await get(p);
    assert.equal(fresh.headers['x-cache'], 'HIT');
    assert.equal(fresh.headers['x-refreshed'], '2');
    assert.equal(fresh.body, 'swr body');
    assert.equal(origin.hits(p).length, 2, 'one background revalidation');
  });
});

describe('RFC 9111 §4.4 invalidation after unsafe methods', () => {
  it('POST, PUT, DELETE and PATCH invalidate the target URI and same-origin Location / Content-Location', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const target = path('target');
      const loc = path('loc');
      const cloc = path('cloc');
      const foreign = path('foreign');
      for (const p of [target, loc, cloc, foreign]) origin.route(p, answer((i) => `v${i}`, { 'cache-control': 'max-age=600' }));
      for (const p of [target, loc, cloc, foreign]) await get(p);
      origin.route(target, (req, res, i) =>
        req.method === 'GET' ? answer(`v${i}`, { 'cache-control': 'max-age=600' })(req, res, i) : answer('done', { location: `${edge.base}${loc}`, 'content-location': cloc, 'x-note': `http://elsewhere.example${foreign}` }, 201)(req, res, i),
      );
      const w = await fetchEdge(`${edge.base}${target}`, { method, body: method === 'DELETE' ? undefined : 'data' });
      assert.equal(w.status, 201);
      assert.equal((await get(target)).fromCache, false, `${method}: target invalidated`);
      assert.equal((await get(loc)).fromCache, false, `${method}: Location invalidated`);
      assert.equal((await get(cloc)).fromCache, false, `${method}: Content-Location invalidated`);
      assert.ok((await get(foreign)).fromCache, `${method}: others kept`);
    }
  });

  it('leaves the cache alone after an error answer or another host in Location', async () => {
    const target = path('err-target');
    const other = path('other-host');
    origin.route(other, answer('o', { 'cache-control': 'max-age=600' }));
    await get(other);
    origin.route(target, (req, res, i) =>
      req.method === 'GET' ? answer('t', { 'cache-control': 'max-age=600' })(req, res, i) : answer('no', { location: `http://evil.example${other}` }, i === 2 ? 500 : 200)(req, res, i),
    );
    await get(target);
    await fetchEdge(`${edge.base}${target}`, { method: 'POST', body: 'x' });
    assert.ok((await get(target)).fromCache, 'a 500 invalidates nothing');
    await fetchEdge(`${edge.base}${target}`, { method: 'POST', body: 'x' });
    assert.equal((await get(target)).fromCache, false);
    assert.ok((await get(other)).fromCache, 'a Location on another host is not ours to invalidate');
  });
});

describe('RFC 9111 §4.1 Vary', () => {
  it('selects by the listed fields, whatever their case and spacing; Vary: * is never stored', async () => {
    const p = path('vary');
    origin.route(p, (req, res, i) => answer(`${String(req.headers['accept-language'])} ${i}`, { 'cache-control': 'max-age=60', vary: ' Accept-Language ,X-Other' })(req, res, i));
    await get(p, { 'accept-language': 'de' });
    assert.ok((await get(p, { 'accept-language': 'de' })).fromCache);
    const en = await get(p, { 'accept-language': 'en' });
    assert.equal(en.fromCache, false);
    assert.ok((await get(p, { 'accept-language': 'de' })).body.startsWith('de'));
    const star = path('vary-star');
    origin.route(star, answer('x', { 'cache-control': 'max-age=60', vary: 'accept, *' }));
    await get(star);
    assert.equal((await get(star)).fromCache, false);
  });

  it('shares one variant between spellings of the same Accept-Encoding', async () => {
    const p = path('vary-ae');
    origin.route(p, answer('x', { 'cache-control': 'max-age=60', vary: 'Accept-Encoding' }));
    await get(p, { 'accept-encoding': 'gzip, br' });
    assert.ok((await get(p, { 'accept-encoding': 'br;q=1.0,  GZIP' })).fromCache);
    assert.equal(origin.hits(p).length, 1);
  });
});

describe('RFC 9211 Cache-Status and Age', () => {
  it('names this cache and says hit / fwd=uri-miss; stored; Age on every cached answer', async () => {
    const p = path('status');
    origin.route(p, answer('x', { 'cache-control': 'max-age=60' }));
    const miss = await get(p);
    assert.match(String(miss.headers['cache-status']), /^dramble; fwd=uri-miss; fwd-status=200; stored$/);
    edge.clock.advance(10_000);
    const hit = await get(p);
    assert.equal(hit.headers['cache-status'], 'dramble; hit; ttl=50');
    assert.equal(hit.headers['age'], '10');
    assert.equal(hit.headers['x-cache'], 'HIT');
  });
});

describe('RFC 9110 §14 Range', () => {
  it('answers a byte range from a complete stored entry with 206 and Content-Range', async () => {
    const p = path('range');
    origin.route(p, answer('0123456789', { 'cache-control': 'max-age=60', etag: '"r"' }));
    await get(p);
    const cases: [string, number, string, string | undefined][] = [
      ['bytes=2-4', 206, '234', 'bytes 2-4/10'],
      ['bytes=7-', 206, '789', 'bytes 7-9/10'],
      ['bytes=-3', 206, '789', 'bytes 7-9/10'],
      ['bytes=5-999999999999999999999', 206, '56789', 'bytes 5-9/10'],
      ['bytes=20-30', 416, '', 'bytes */10'],
      ['bytes=4-2', 200, '0123456789', undefined],
      ['bytes=0-1,0-1,0-1', 200, '0123456789', undefined],
      ['items=1-2', 200, '0123456789', undefined],
      ['bytes=abc', 200, '0123456789', undefined],
    ];
    for (const [range, status, body, contentRange] of cases) {
      const r = await get(p, { range });
      assert.equal(r.status, status, range);
      assert.equal(r.body, body, range);
      assert.equal(r.headers['content-range'], contentRange, range);
      assert.ok(r.fromCache, range);
    }
    assert.equal((await get(p, { range: 'bytes=0-0', 'if-range': '"other"' })).status, 200, 'If-Range that does not match: the whole body');
    assert.equal((await get(p, { range: 'bytes=0-0', 'if-range': '"r"' })).status, 206);
    assert.equal(origin.hits(p).length, 1);
  });

  it('passes a Range miss through untouched and never stores the 206', async () => {
    const p = path('range-miss');
    origin.route(p, (req, res) => {
      if (req.headers.range === 'bytes=0-1') {
        res.writeHead(206, { 'content-range': 'bytes 0-1/4', 'content-length': '2', 'cache-control': 'max-age=60' });
        return res.end('ab');
      }
      answer('abcd', { 'cache-control': 'max-age=60' })(req, res, 0);
    });
    const part = await get(p, { range: 'bytes=0-1' });
    assert.equal(part.status, 206);
    assert.equal(part.body, 'ab');
    assert.equal(origin.hits(p)[0]!.headers.range, 'bytes=0-1');
    const whole = await get(p);
    assert.equal(whole.fromCache, false, 'the 206 was not stored as the whole');
    assert.equal(whole.body, 'abcd');
  });
});

describe('RFC 9110 §15.2 interim responses', () => {
  it('forwards 103 Early Hints (with Link) and 102 from the origin before the final answer', async () => {
    // Through the cache (a GET it looks up), and past it (Authorization: the pass-through path).
    for (const cacheable of [true, false]) {
      const p = path('early');
      origin.route(p, (_req, res) => {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        res.writeProcessing();
        answer('final', { 'cache-control': cacheable ? 'max-age=60' : 'no-store' })(_req, res, 0);
      });
      const seen: Array<{ status: number; link?: string }> = [];
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.get(`${edge.base}${p}`, { agent: false, headers: cacheable ? {} : { authorization: 'Bearer t' } }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b));
        });
        req.on('information', (info) => seen.push({ status: info.statusCode, link: info.headers['link'] as string | undefined }));
        req.on('error', reject);
      });
      assert.equal(body, 'final');
      assert.deepEqual(seen, [{ status: 103, link: '</style.css>; rel=preload; as=style' }, { status: 102, link: undefined }], cacheable ? 'through the cache' : 'past it');
      assert.equal(origin.hits(p).length, 1);
    }
  });
});
