// Per-client rate limiting: a token bucket per IP, 429 with Retry-After when it is empty.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { take } from '../../../services/balancer/src/rate-limit/token-bucket.js';
import { createRateLimiter, writeTooManyRequests } from '../../../services/balancer/src/rate-limit/index.js';

describe('token bucket', () => {
  it('allows a burst, then the refill rate', () => {
    let b = take(undefined, 0, 2, 3);
    assert.ok(b.ok);
    b = take(b.bucket, 0, 2, 3);
    b = take(b.bucket, 0, 2, 3);
    assert.ok(b.ok, 'three at once: the burst');
    const refused = take(b.bucket, 0, 2, 3);
    assert.equal(refused.ok, false);
    assert.equal(refused.retryAfterSeconds, 1);
    assert.ok(take(refused.bucket, 500, 2, 3).ok, 'half a second at 2/s gives one token back');
    assert.equal(take(take(refused.bucket, 500, 2, 3).bucket, 500, 2, 3).ok, false);
  });

  it('never holds more than the burst however long a client was idle', () => {
    let b = take(undefined, 0, 1, 2).bucket;
    b = take(b, 1_000_000, 1, 2).bucket;
    b = take(b, 1_000_000, 1, 2).bucket;
    assert.equal(take(b, 1_000_000, 1, 2).ok, false);
  });

  it('computes Retry-After from the rate for slow rates', () => {
    const empty = take(undefined, 0, 0.1, 1).bucket;
    assert.equal(take(empty, 0, 0.1, 1).retryAfterSeconds, 10);
  });
});

describe('rate limiter', () => {
  it('is off at rate 0 and limits each client separately when on', () => {
    const off = createRateLimiter({ rateLimitRps: 0, rateLimitBurst: 1 });
    assert.equal(off.enabled, false);
    for (let i = 0; i < 100; i++) assert.ok(off.check('1.2.3.4').ok);
    let now = 0;
    const on = createRateLimiter({ rateLimitRps: 1, rateLimitBurst: 2 }, { now: () => now });
    assert.ok(on.check('a').ok && on.check('a').ok);
    assert.deepEqual(on.check('a'), { ok: false, retryAfterSeconds: 1 });
    assert.ok(on.check('b').ok, 'another client has its own bucket');
    now += 1000;
    assert.ok(on.check('a').ok);
  });

  it('forgets idle clients so a flood of addresses cannot grow memory without bound', () => {
    let now = 0;
    const rl = createRateLimiter({ rateLimitRps: 10, rateLimitBurst: 5 }, { now: () => now, maxClients: 100 });
    for (let i = 0; i < 1000; i++) rl.check(`10.0.${i >> 8}.${i & 255}`);
    assert.ok(rl.clients <= 101);
    now += 60_000;
    rl.check('10.9.9.9');
    assert.equal(rl.clients, 1);
  });

  it('answers 429 with Retry-After once a client used its burst', async () => {
    const rl = createRateLimiter({ rateLimitRps: 0.5, rateLimitBurst: 2 });
    const server = http.createServer((req, res) => {
      const d = rl.check(req.socket.remoteAddress ?? '');
      if (!d.ok) return writeTooManyRequests(res, d.retryAfterSeconds, req.headers.accept);
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof request>> | undefined;
      for (let i = 0; i < 3; i++) {
        last = await request(url, { headers: { accept: 'application/json' } });
        statuses.push(last.statusCode);
        if (i < 2) await last.body.dump();
      }
      assert.deepEqual(statuses, [200, 200, 429]);
      assert.equal(last!.headers['retry-after'], '2');
      assert.deepEqual(await last!.body.json(), { error: 'too many requests', retryAfterSeconds: 2 });
    } finally {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    }
  });
});
