// Least privilege on the balancer's admin API: the purge token (which every app pod holds) can purge
// the cache and nothing else; the drain token (operators') can drain and undrain and nothing else.
// Real HTTP against a started balancer with a real backend behind it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@dramble/lib';
import { startBackend, startTestBalancer, request, testConfig, type TestBackend, type TestBalancer } from './helpers.js';

const PURGE = 'purge-token-held-by-apps';
const DRAIN = 'drain-token-held-by-operators';

function post(url: string, token?: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(url, { method: 'POST', headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: string }).error;
}

describe('separate purge and drain tokens on the balancer admin API', () => {
  let backend: TestBackend;
  let lb: TestBalancer;
  const page = '<p>home</p>';
  before(async () => {
    backend = await startBackend('pi1', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'public, s-maxage=60', 'cache-tag': 'home', 'content-length': Buffer.byteLength(page) });
      res.end(page);
    });
    lb = await startTestBalancer(['--backend', backend.url, '--purge-token', PURGE, '--drain-token', DRAIN]);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  const draining = async (): Promise<boolean> => {
    const list = (await (await fetch(`${lb.admin}/api/backends`)).json()) as { backends: Array<{ name: string; draining: boolean }> };
    return list.backends.find((b) => b.name === 'pi1')!.draining;
  };

  it('the purge token cannot drain or undrain: 403, and the backend keeps serving', async () => {
    for (const action of ['drain', 'undrain']) {
      const r = await post(`${lb.admin}/api/backends/pi1/${action}`, PURGE);
      assert.equal(r.status, 403, action);
      assert.match(await errorOf(r), /grants purge, not drain/);
    }
    assert.equal(await draining(), false);
    assert.equal((await request(`${lb.base}/after-refused-drain`)).headers['x-served-by'], 'pi1');
  });

  it('the drain token cannot purge: 403, and the cached copy stays', async () => {
    await request(`${lb.base}/home`);
    assert.equal((await request(`${lb.base}/home`)).headers['x-cache'], 'HIT');
    const r = await post(`${lb.admin}/api/cache/purge`, DRAIN, { tags: ['home'] });
    assert.equal(r.status, 403);
    assert.match(await errorOf(r), /grants drain, not purge/);
    assert.equal((await request(`${lb.base}/home`)).headers['x-cache'], 'HIT');
  });

  it('each token does its own job', async () => {
    const purged = await post(`${lb.admin}/api/cache/purge`, PURGE, { tags: ['home'] });
    assert.equal(purged.status, 200);
    assert.equal((await request(`${lb.base}/home`)).headers['x-cache'], 'MISS');
    assert.equal((await post(`${lb.admin}/api/backends/pi1/drain`, DRAIN)).status, 200);
    assert.equal(await draining(), true);
    assert.equal((await post(`${lb.admin}/api/backends/pi1/undrain`, DRAIN)).status, 200);
    assert.equal(await draining(), false);
  });

  it('no token or an unknown one: 401 with a Bearer challenge, for either power', async () => {
    for (const [url, body] of [[`${lb.admin}/api/cache/purge`, { tags: ['home'] }], [`${lb.admin}/api/backends/pi1/drain`, undefined]] as const) {
      for (const token of [undefined, 'guess', `${PURGE}x`]) {
        const r = await post(url, token, body);
        assert.equal(r.status, 401, `${url} with ${token ?? 'no token'}`);
        assert.equal(r.headers.get('www-authenticate'), 'Bearer');
      }
    }
    assert.equal(await draining(), false);
  });
});

describe('a power without a configured token is off', () => {
  let backend: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    backend = await startBackend('pi1');
    lb = await startTestBalancer(['--backend', backend.url, '--purge-token', PURGE]);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  it('refuses every drain (401, naming --drain-token), whatever token is sent', async () => {
    for (const token of [undefined, PURGE, DRAIN]) {
      const r = await post(`${lb.admin}/api/backends/pi1/drain`, token);
      assert.equal(r.status, 401);
      assert.match(await errorOf(r), /no drain token is configured \(--drain-token\)/);
    }
    assert.equal((await post(`${lb.admin}/api/cache/purge`, PURGE, { tags: ['x'] })).status, 200);
  });
});

describe('token settings', () => {
  it('refuses to start with the retired single --admin-token, so purge holders never keep drain', () => {
    assert.throws(() => testConfig(['--admin-token', 'old']), (err: unknown) => err instanceof ConfigError && /retired/.test(err.message) && !err.message.includes('old'));
  });

  it('refuses the same value for --purge-token and --drain-token', () => {
    assert.throws(() => testConfig(['--purge-token', 'same', '--drain-token', 'same']), (err: unknown) => err instanceof ConfigError && /must differ/.test(err.message));
  });
});
