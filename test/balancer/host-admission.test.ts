// Host admission: a crafted Host, X-Forwarded-Host or `Connection: host` can neither reach a backend
// as a foreign host nor leave a cached page with foreign links for the next ordinary visitor.
// The backend echoes the host it was told into a cacheable feed, as a site building absolute
// links from the request would.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startTestBalancer, rawExchange, rejectedCount, statusOf, request, testConfig, type TestBackend, type TestBalancer } from './helpers.js';

const SITE = 'site.example';

function bodyOf(raw: string): string {
  return raw.slice(raw.indexOf('\r\n\r\n') + 4);
}

describe('Host admission', () => {
  let backend: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    backend = await startBackend('pi1', (req, res) => {
      const seen = `host=${req.headers.host ?? ''} xfh=${String(req.headers['x-forwarded-host'] ?? '')}`;
      const body = `<feed><link href="http://${String(req.headers['x-forwarded-host'] ?? req.headers.host)}/post"/><!-- ${seen} --></feed>\n`;
      res.writeHead(200, { 'content-type': 'application/atom+xml', 'cache-control': 'public, s-maxage=60', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    lb = await startTestBalancer(['--backend', backend.url, '--server-name', SITE]);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  const get = (path: string, headers: string): Promise<string> => rawExchange(lb.port, `GET ${path} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`);

  it('refuses a Host that is not an authority with 400, and an undeclared one with 421, before the backend or the cache', async () => {
    const before = backend.seen.length;
    for (const path of ['/feed.xml', '/']) {
      assert.equal(statusOf(await get(path, 'Host: 127.0.0.1:8080:1@evil.example\r\n')), 400, 'userinfo and a second port');
      assert.equal(statusOf(await get(path, 'Host: site.example/evil\r\n')), 400, 'a path in Host');
      assert.equal(statusOf(await get(path, 'Host: site.example:99999\r\n')), 400, 'port out of range');
      assert.equal(statusOf(await get(path, 'Host: \r\n')), 400, 'empty Host');
      assert.equal(statusOf(await get(path, 'Host: evil.example\r\n')), 421, 'undeclared name');
      assert.equal(statusOf(await get(path, 'Host: site.example.evil.example\r\n')), 421, 'declared name as a prefix');
      assert.equal(statusOf(await get(path, 'Host: site.example:1234\r\n')), 421, 'a port the site is not reached at');
      assert.equal(statusOf(await get(`http://evil.example${path}`, `Host: ${SITE}\r\n`)), 421, 'absolute-form target naming a foreign host');
    }
    assert.equal(backend.seen.length, before, 'nothing reached the backend');
    assert.equal(lb.balancer.cache.stats().entries, 0, 'no cache entry was created');
    assert.ok((await rejectedCount(lb, 'host-invalid')) >= 8);
    assert.ok((await rejectedCount(lb, 'host-unknown')) >= 8);
  });

  it('replaces a client X-Forwarded-Host and keeps Host when Connection names it', async () => {
    for (const path of ['/feed.xml', '/']) {
      const a = await get(`${path}?xfh`, `Host: ${SITE}\r\nX-Forwarded-Host: evil.example\r\n`);
      assert.equal(statusOf(a), 200);
      assert.doesNotMatch(bodyOf(a), /evil/);
      const b = await get(`${path}?conn`, `Host: ${SITE}\r\nConnection: host, content-length\r\nX-Forwarded-Host: evil.example\r\n`);
      assert.equal(statusOf(b), 200);
      assert.match(bodyOf(b), new RegExp(`host=${SITE} xfh=${SITE}`), 'Host reached the backend');
    }
  });

  it('normalises Host (case, default port), so spellings share one cache entry and the backend sees one name', async () => {
    const first = await get('/norm', 'Host: SITE.Example:80\r\n');
    assert.equal(statusOf(first), 200);
    assert.match(bodyOf(first), new RegExp(`host=${SITE} `));
    const second = await get('/norm', `Host: ${SITE}\r\n`);
    assert.match(second, /x-cache: HIT/i, 'the second spelling hit the first one\'s entry');
  });

  it('gives an ordinary visitor a feed with only the site\'s own links after all of that', async () => {
    for (const path of ['/feed.xml', '/']) {
      const res = await request(`${lb.base}${path}`, { headers: { host: SITE } });
      assert.equal(res.status, 200);
      assert.doesNotMatch(res.body, /evil/);
      assert.match(res.body, new RegExp(`href="http://${SITE}/post"`));
    }
    for (const seen of backend.seen) {
      assert.equal(seen.headers.host, SITE);
      assert.equal(seen.headers['x-forwarded-host'], SITE);
    }
  });

  it('accepts loopback and the listener\'s own address without a declaration', async () => {
    const res = await request(`${lb.base}/loop`);
    assert.equal(res.status, 200);
    assert.match(res.body, new RegExp(`host=127\\.0\\.0\\.1:${lb.port} `));
  });

  it('takes a new --server-name list on reload, without a restart', async () => {
    lb.balancer.reload(testConfig(['--backend', backend.url, '--server-name', 'new.example']));
    try {
      assert.equal(statusOf(await get('/r', 'Host: new.example\r\n')), 200);
      assert.equal(statusOf(await get('/r', `Host: ${SITE}\r\n`)), 421);
    } finally {
      lb.balancer.reload(testConfig(['--backend', backend.url, '--server-name', SITE]));
    }
    assert.equal(statusOf(await get('/r', `Host: ${SITE}\r\n`)), 200);
  });
});
