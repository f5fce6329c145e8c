// The edge features wired into the running balancer (their logic is tested in test/balancer/cache):
// cache hits keep X-Served-By, the site stays up from cache when every backend is gone, purge
// through the admin API, compression, and the per-client rate limit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import http from 'node:http';
import { startBackend, startTestBalancer, request, eventually, type TestBackend, type TestBalancer } from './helpers.js';

const page = `<!doctype html><title>Dramble</title>${'<p>Raspberry Pi Dramble.</p>'.repeat(100)}`;

describe('edge cache through the balancer', () => {
  let backend: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    backend = await startBackend('pi1', (req, res) => {
      // max-age, not s-maxage: s-maxage implies proxy-revalidate (RFC 9111 §5.2.2.10), which rules out serving stale without an explicit stale-if-error.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=1', 'cache-tag': 'home', 'content-length': Buffer.byteLength(page) });
      res.end(page);
    });
    lb = await startTestBalancer(['--backend', backend.url, '--purge-token', 'tok', '--max-fails', '1', '--fail-timeout-ms', '60000']);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  it('serves a hit from memory, still naming the backend that produced it', async () => {
    const first = await request(`${lb.base}/home`);
    assert.equal(first.headers['x-cache'], 'MISS');
    const second = await request(`${lb.base}/home`);
    assert.equal(second.headers['x-cache'], 'HIT');
    assert.equal(second.headers['x-served-by'], 'pi1');
    assert.equal(second.body, page);
    assert.equal(backend.seen.filter((s) => s.url === '/home').length, 1);
  });

  it("names the cache's part in every access log line: a miss, a hit, a compressed miss", async () => {
    const accessLine = (id: string): Record<string, unknown> | undefined => lb.logLines.find((l) => l['log'] === 'access' && l['requestId'] === id);
    await request(`${lb.base}/logged`, { headers: { 'x-request-id': 'c-miss' } });
    await request(`${lb.base}/logged`, { headers: { 'x-request-id': 'c-hit' } });
    await request(`${lb.base}/logged-gz`, { headers: { 'x-request-id': 'c-gz', 'accept-encoding': 'gzip' } });
    const lines = await eventually(() => {
      const all = ['c-miss', 'c-hit', 'c-gz'].map(accessLine);
      return all.every(Boolean) ? all : undefined;
    }, 5_000, 'three access lines');
    assert.deepEqual(lines.map((l) => l!['cache']), ['MISS', 'HIT', 'MISS']);
  });

  it('purges by tag through the admin API with the token', async () => {
    const denied = await fetch(`${lb.admin}/api/cache/purge`, { method: 'POST', body: JSON.stringify({ tags: ['home'] }) });
    assert.equal(denied.status, 401);
    const ok = await fetch(`${lb.admin}/api/cache/purge`, { method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' }, body: JSON.stringify({ tags: ['home'] }) });
    assert.equal(ok.status, 200);
    assert.equal((await request(`${lb.base}/home`)).headers['x-cache'], 'MISS');
    const stats = (await (await fetch(`${lb.admin}/api/cache`)).json()) as { entries: number };
    assert.ok(stats.entries >= 1);
  });

  it('keeps the site up from cache when every backend is gone', async () => {
    await request(`${lb.base}/about`);
    await backend.close();
    const res = await eventually(async () => {
      const r = await request(`${lb.base}/about`);
      return r.headers['x-cache'] === 'STALE' ? r : undefined;
    }, 15_000, 'a stale copy');
    assert.equal(res.status, 200);
    assert.equal(res.body, page);
    // A page never cached has nothing to fall back on.
    assert.ok([502, 503].includes((await request(`${lb.base}/never-seen`)).status));
  });
});

describe('compression and rate limiting through the balancer', () => {
  let backend: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    backend = await startBackend('pi1', (req, res) => {
      const type = req.url === '/img' ? 'image/png' : 'text/html; charset=utf-8';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(page) });
      res.end(page);
    });
    lb = await startTestBalancer(['--backend', backend.url, '--rate-limit-rps', '1', '--rate-limit-burst', '4']);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  it('gzips a text response for a client that accepts it, and limits a client that keeps asking', async () => {
    const gzipClient = (path: string): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> =>
      new Promise((resolve, reject) => {
        http
          .get(`${lb.base}${path}`, { headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
          })
          .on('error', reject);
      });
    const gz = await gzipClient('/');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.body).toString(), page);
    assert.equal(gz.headers['x-served-by'], 'pi1');
    // Not compressible: passed on as the backend sent it, to the same client.
    const img = await gzipClient('/img');
    assert.equal(img.headers['content-encoding'], undefined);
    assert.equal(img.headers['content-length'], String(Buffer.byteLength(page)));
    assert.equal(img.body.toString(), page);
    assert.equal(img.headers['x-served-by'], 'pi1');

    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 6; i++) {
      const r = await request(`${lb.base}/`);
      statuses.push(r.status);
      if (r.status === 429) retryAfter = String(r.headers['retry-after']);
    }
    assert.ok(statuses.includes(429), `statuses ${statuses.join(',')}`);
    assert.ok(Number(retryAfter) >= 1);
  });
});
