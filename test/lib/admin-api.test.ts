// The admin APIs' shared parts: the bearer-token check and the bounded JSON body reader, over a real
// node:http server as the services use them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkBearerToken, HttpError, readJsonBody, sendJson } from '@dramble/lib';

describe('admin API helpers', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/token') return sendJson(res, 200, { check: checkBearerToken(req, 's3cret'), unconfigured: checkBearerToken(req, undefined) });
      readJsonBody(req, 64).then(
        (body) => sendJson(res, 200, { body: body ?? null }),
        (err: HttpError) => sendJson(res, err.status, { error: err.message }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const token = async (authorization?: string): Promise<{ check: string; unconfigured: string }> =>
    (await fetch(`${base}/token`, authorization ? { headers: { authorization } } : {})).json() as Promise<{ check: string; unconfigured: string }>;
  const post = (body: string | undefined, type = 'application/json'): Promise<Response> =>
    fetch(`${base}/body`, { method: 'POST', headers: { 'content-type': type }, ...(body !== undefined ? { body } : {}) });

  it('accepts only the configured bearer token', async () => {
    assert.deepEqual(await token('Bearer s3cret'), { check: 'ok', unconfigured: 'unconfigured' });
    assert.equal((await token('bearer  s3cret ')).check, 'ok', 'scheme case and spaces do not matter');
    assert.equal((await token('Bearer s3cre')).check, 'invalid');
    assert.equal((await token('Bearer s3cret-and-more')).check, 'invalid');
    assert.equal((await token('Basic czNjcmV0')).check, 'missing');
    assert.equal((await token()).check, 'missing');
  });

  it('reads a JSON body, and no body as undefined', async () => {
    const r = await post('{"target":"a:1"}');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { body: { target: 'a:1' } });
    assert.deepEqual(await (await post(undefined)).json(), { body: null });
    assert.deepEqual(await (await post('{"a":1}', 'application/merge-patch+json')).json(), { body: { a: 1 } });
  });

  it('refuses a body that is not JSON (415), not valid JSON (400) or too large (413)', async () => {
    const form = await post('target=x', 'application/x-www-form-urlencoded');
    assert.equal(form.status, 415);
    assert.match(((await form.json()) as { error: string }).error, /application\/json/);
    const broken = await post('{nope');
    assert.equal(broken.status, 400);
    assert.match(((await broken.json()) as { error: string }).error, /not valid JSON/);
    const big = await post(JSON.stringify({ t: 'x'.repeat(100) }));
    assert.equal(big.status, 413);
  });
});
