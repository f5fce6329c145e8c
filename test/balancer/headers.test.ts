// Header handling through the proxy: X-Forwarded-* (spoofing refused unless from a trusted
// proxy), hop-by-hop stripping including Connection-named headers, request id, Via, X-Served-By.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startTestBalancer, request, rawExchange, type TestBackend, type TestBalancer } from './helpers.js';

describe('forwarded headers', () => {
  let backend: TestBackend;
  let lb: TestBalancer;
  let trustedLb: TestBalancer;
  before(async () => {
    backend = await startBackend('pi1');
    lb = await startTestBalancer(['--backend', backend.url]);
    trustedLb = await startTestBalancer(['--backend', backend.url, '--trusted-proxies', '127.0.0.0/8']);
  });
  after(async () => {
    await lb.close();
    await trustedLb.close();
    await backend.close();
  });

  const seenBy = async (base: string, headers: Record<string, string>): Promise<Record<string, string>> => {
    const res = await request(`${base}/echo`, { headers });
    assert.equal(res.status, 200);
    return (JSON.parse(res.body) as { headers: Record<string, string> }).headers;
  };

  it('replaces a spoofed X-Forwarded-For from an untrusted client with the real peer', async () => {
    const h = await seenBy(lb.base, { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', forwarded: 'for=6.6.6.6' });
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.match(h['x-forwarded-host'] ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(h['forwarded'], undefined);
  });

  it('keeps the chain from a trusted proxy and appends the peer as the right-most entry', async () => {
    const h = await seenBy(trustedLb.base, { 'x-forwarded-for': '203.0.113.9, 10.0.0.2', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'dramble.example' });
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 10.0.0.2, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-host'], 'dramble.example');
  });

  it('strips hop-by-hop headers and every header named in Connection', async () => {
    const raw = await rawExchange(
      lb.port,
      'GET /hop HTTP/1.1\r\nHost: x\r\nConnection: close, X-Internal-Auth\r\nX-Internal-Auth: secret\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nX-Kept: yes\r\n\r\n',
    );
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    assert.equal(body.headers['x-internal-auth'], undefined);
    assert.equal(body.headers['keep-alive'], undefined);
    assert.equal(body.headers['te'], undefined);
    assert.equal(body.headers['proxy-authorization'], undefined);
    assert.equal(body.headers['x-kept'], 'yes');
  });

  it('passes a client request id through, creates one otherwise, and echoes it', async () => {
    const res = await request(`${lb.base}/rid`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers['x-request-id'], 'abc-123');
    assert.equal((JSON.parse(res.body) as { headers: Record<string, string> }).headers['x-request-id'], 'abc-123');
    const fresh = await request(`${lb.base}/rid`);
    const again = await request(`${lb.base}/rid`);
    // A per-process random prefix and a counter: unique, and in the app's accepted alphabet.
    assert.match(String(fresh.headers['x-request-id']), /^[\w-]{14,}$/);
    assert.notEqual(fresh.headers['x-request-id'], again.headers['x-request-id']);
    assert.equal((JSON.parse(fresh.body) as { headers: Record<string, string> }).headers['x-request-id'], fresh.headers['x-request-id']);
  });

  it('adds Via both ways and names the backend in X-Served-By', async () => {
    const res = await request(`${lb.base}/via`);
    assert.equal(res.headers['x-served-by'], 'pi1');
    assert.match(String(res.headers['via']), /1\.1 dramble-balancer/);
    assert.match((JSON.parse(res.body) as { headers: Record<string, string> }).headers['via'] ?? '', /1\.1 dramble-balancer/);
  });

  it('strips hop-by-hop headers the backend sends, including Connection-named ones', async () => {
    const b = await startBackend('hop', (_req, res) => {
      res.writeHead(200, { connection: 'x-backend-private', 'x-backend-private': 'leak', 'x-public': 'ok', 'content-length': 2 });
      res.end('ok');
    });
    const lb2 = await startTestBalancer(['--backend', b.url]);
    try {
      const res = await request(`${lb2.base}/`);
      assert.equal(res.headers['x-backend-private'], undefined);
      assert.equal(res.headers['x-public'], 'ok');
    } finally {
      await lb2.close();
      await b.close();
    }
  });

  it('writes one access log line per request with status, backend and request id', async () => {
    await request(`${lb.base}/logged`, { headers: { 'x-request-id': 'log-me' } });
    const line = lb.logLines.find((l) => l['log'] === 'access' && l['requestId'] === 'log-me');
    assert.ok(line, 'no access log line');
    assert.equal(line['status'], 200);
    assert.equal(line['backend'], 'pi1');
    assert.equal(line['method'], 'GET');
    assert.equal(line['path'], '/logged');
    assert.equal(typeof line['ms'], 'number');
  });
});
