// How bodies flow through the cache: streamed to the client while being copied, HEAD misses
// filling the cache, and fills that a purge overtakes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startBackend, startFront, get, until, respond, type Backend, type Front } from './harness.js';

describe('edge cache streaming', () => {
  let backend: Backend;
  let front: Front;
  before(async () => {
    backend = await startBackend();
    front = await startFront(backend.url, { cacheLockTimeoutMs: 300 });
  });
  after(async () => {
    await front.close();
    await backend.close();
  });

  it('sends the first bytes of a cacheable miss before the backend finished the body', async () => {
    let finish: (() => void) | undefined;
    backend.route('/slow', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
      res.write('first part;');
      finish = () => res.end('second part');
    });
    const r = await request(`${front.url}/slow`);
    assert.equal(r.headers['x-cache'], 'MISS');
    const it = r.body[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(Buffer.from(first.value as Buffer).toString(), 'first part;', 'the client got bytes while the backend still holds the rest');
    assert.ok(finish, 'the backend has not finished yet');
    finish();
    let rest = '';
    for (let n = await it.next(); !n.done; n = await it.next()) rest += Buffer.from(n.value as Buffer).toString();
    assert.equal(rest, 'second part');
    const hit = await get(`${front.url}/slow`);
    assert.equal(hit.headers['x-cache'], 'HIT');
    assert.equal(hit.body, 'first part;second part');
  });

  it('fills the cache from a HEAD miss, so the next GET is a hit with the full body', async () => {
    backend.route('/head-first', respond('full body', { 'cache-control': 'max-age=60' }));
    const head = await get(`${front.url}/head-first`, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '9');
    assert.equal(head.body, '');
    await until('the body is stored', () => front.layer.stats().inFlight === 0);
    const r = await get(`${front.url}/head-first`);
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.equal(r.body, 'full body');
  });

  it('does not store a fill that a purge overtook', async () => {
    let finish: (() => void) | undefined;
    let n = 0;
    backend.route('/racing', (_req, res) => {
      const v = ++n;
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
      res.write(`version ${v}`);
      if (v === 1) finish = () => res.end();
      else res.end();
    });
    const pending = get(`${front.url}/racing`);
    await until('the backend is sending version 1', () => finish !== undefined);
    front.layer.purge({ urls: ['/racing'] }); // content changed while version 1 was on the wire
    finish!();
    assert.equal((await pending).body, 'version 1');
    const next = await get(`${front.url}/racing`);
    assert.equal(next.headers['x-cache'], 'MISS');
    assert.equal(next.body, 'version 2');
  });

  it('sends waiting requests to the backend after the lock timeout', async () => {
    const held: (() => void)[] = [];
    backend.route('/stuck', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
      res.write('partial;');
      held.push(() => res.end('done'));
    });
    const first = request(`${front.url}/stuck`);
    await until('the first request holds the lock', () => held.length === 1);
    const second = get(`${front.url}/stuck`);
    await until('the second request gave up waiting and went to the backend', () => held.length === 2, 10_000);
    held[1]!();
    held[0]!();
    assert.equal((await second).body, 'partial;done');
    assert.equal(await (await first).body.text(), 'partial;done');
  });
});

describe('coalesced requests when the backend fails', () => {
  it('serves the stale copy to every waiter when the one backend request fails', async () => {
    const backend = await startBackend();
    const front = await startFront(backend.url, { cacheLockTimeoutMs: 60_000 });
    try {
      let mode: 'ok' | 'hold' = 'ok';
      const held: (() => void)[] = [];
      backend.route('/news', (_req, res) => {
        if (mode === 'ok') {
          res.writeHead(200, { 'cache-control': 'max-age=1, stale-if-error=600', 'content-type': 'text/plain' });
          res.end('yesterday');
          return;
        }
        held.push(() => {
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end('down');
        });
      });
      await get(`${front.url}/news`);
      front.clock.advance(10_000);
      mode = 'hold';
      const enteredBefore = front.entered();
      const all = Promise.all(Array.from({ length: 5 }, () => get(`${front.url}/news`)));
      await until('5 requests waiting on one backend request', () => front.entered() - enteredBefore === 5 && held.length === 1);
      held[0]!();
      const rs = await all;
      assert.ok(rs.every((r) => r.status === 200 && r.body === 'yesterday' && r.headers['x-cache'] === 'STALE'));
      assert.equal(backend.hits.get('/news'), 2);
    } finally {
      await front.close();
      await backend.close();
    }
  });
});
