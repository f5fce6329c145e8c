// Compression of uncompressed text responses, round-tripped through a real client.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { maybeCompress, negotiateEncoding, isCompressible } from '../../../services/balancer/src/compression/index.js';
import type { UpstreamResponse } from '../../../services/balancer/src/forward/types.js';
import { startBackend, startFront, get, respond, type Backend, type Front } from './harness.js';

const PNG = '\x89PNG'.padEnd(4000, 'x');
const PAGE = `<!doctype html><title>Dramble</title>${'<p>The Raspberry Pi Dramble serves this page.</p>\n'.repeat(200)}`;

describe('compression through the cache', () => {
  let backend: Backend;
  let front: Front;
  before(async () => {
    backend = await startBackend();
    front = await startFront(backend.url, {}, { compress: true });
    backend.route('/page', respond(PAGE, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'max-age=60', etag: '"p1"' }));
    backend.route('/png', respond(PNG, { 'content-type': 'image/png' }));
    backend.route('/pre', (_req, res) => {
      const gz = zlib.gzipSync(PAGE);
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
    });
  });
  after(async () => {
    await front.close();
    await backend.close();
  });

  it('gzips for a client that accepts only gzip, and the body round-trips', async () => {
    const r = await get(`${front.url}/page`, { 'accept-encoding': 'gzip' });
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(r.headers['content-length'], undefined);
    assert.match(String(r.headers['vary']), /Accept-Encoding/);
    assert.equal(r.headers['etag'], 'W/"p1"', 'the compressed representation gets a weak validator');
    assert.ok(r.raw.length < PAGE.length / 5);
    assert.equal(zlib.gunzipSync(r.raw).toString('utf8'), PAGE);
  });

  it('prefers brotli when the client accepts it, also when served from the cache', async () => {
    const r = await get(`${front.url}/page`, { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.equal(r.headers['content-encoding'], 'br');
    assert.equal(zlib.brotliDecompressSync(r.raw).toString('utf8'), PAGE);
  });

  // Through the real balancer now: without Accept-Encoding it skips compression and its Vary (server.ts:
  // identity suits every client, so a downstream cache may share it); a client that refuses every coding says it varies.
  it('sends identity to a client without Accept-Encoding, or one that refuses every coding', async () => {
    const r = await get(`${front.url}/page`);
    assert.equal(r.headers['content-encoding'], undefined);
    assert.equal(r.body, PAGE);
    const refused = await get(`${front.url}/page`, { 'accept-encoding': 'br;q=0, gzip;q=0' });
    assert.equal(refused.headers['content-encoding'], undefined);
  });

  it('leaves images and already-compressed responses alone', async () => {
    const png = await get(`${front.url}/png`, { 'accept-encoding': 'gzip, br' });
    assert.equal(png.headers['content-encoding'], undefined);
    assert.equal(png.raw.length, Buffer.byteLength(PNG));
    const pre = await get(`${front.url}/pre`, { 'accept-encoding': 'gzip, br' });
    assert.equal(pre.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(pre.raw).toString('utf8'), PAGE, 'compressed exactly once');
  });
});

describe('compression decisions', () => {
  const up = (headers: Record<string, string>, status = 200): UpstreamResponse => ({
    status,
    headers,
    body: Readable.from([Buffer.from('x'.repeat(2000))]),
    backend: { id: 'b', name: 'b' },
    retries: 0,
  });
  const req = { method: 'GET', headers: { 'accept-encoding': 'gzip' } };

  it('skips small bodies, no-transform, 204/304 and server-sent events', () => {
    for (const [headers, status] of [
      [{ 'content-type': 'text/plain', 'content-length': '10' }, 200],
      [{ 'content-type': 'text/plain', 'cache-control': 'public, no-transform' }, 200],
      [{ 'content-type': 'text/plain' }, 304],
      [{ 'content-type': 'text/event-stream' }, 200],
    ] as const) {
      const u = up({ ...headers }, status);
      assert.equal(maybeCompress(req, u), u);
    }
  });

  it('negotiates by q-values and wildcards', () => {
    assert.equal(negotiateEncoding('gzip;q=1, br;q=0.5'), 'gzip');
    assert.equal(negotiateEncoding('*'), 'br');
    assert.equal(negotiateEncoding('identity'), undefined);
    assert.equal(negotiateEncoding('*, br;q=0'), 'gzip');
    assert.equal(negotiateEncoding(undefined), undefined);
    assert.ok(isCompressible('application/vnd.api+json'));
    assert.ok(!isCompressible('video/mp4'));
  });
});
