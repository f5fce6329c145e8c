// Backend failures as the client sees them: a backend dying mid-response, a hanging backend,
// every backend down, and which requests are retried on another backend.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../support/index.js';
import { startBackend, startTestBalancer, request, rawExchange, statusOf, type TestBackend, type TestBalancer } from './helpers.js';

describe('a backend dying mid-response', () => {
  let lb: TestBalancer;
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend('dies', (req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('a'.repeat(10_000));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 100_000 });
        res.write('a'.repeat(10_000));
      }
      setTimeout(() => res.socket?.destroy(), 50);
    });
    lb = await startTestBalancer(['--backend', backend.url, '--no-cache']);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  it('aborts a Content-Length response instead of presenting it as whole', async () => {
    await assert.rejects(request(`${lb.base}/length`));
  });

  it('aborts a chunked response: no terminating chunk is ever sent', async () => {
    await assert.rejects(request(`${lb.base}/chunked`));
    const raw = await rawExchange(lb.port, 'GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(statusOf(raw), 200);
    assert.ok(!raw.endsWith('0\r\n\r\n'), 'the response was terminated as if complete');
  });
});

describe('a hanging backend', () => {
  let lb: TestBalancer;
  let backend: TestBackend;
  before(async () => {
    backend = await startBackend('hangs', () => undefined);
    lb = await startTestBalancer(['--backend', backend.url, '--response-timeout-ms', '1000']);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  it('answers 504 within the response timeout', async () => {
    const t0 = Date.now();
    const res = await request(`${lb.base}/slow`, { headers: { accept: 'application/json' } });
    const took = Date.now() - t0;
    assert.equal(res.status, 504);
    assert.equal((JSON.parse(res.body) as { status: number }).status, 504);
    // One retry on the same (only) backend is not possible, so: about one timeout, never many.
    assert.ok(took >= 900 && took < 10_000, `took ${took} ms`);
  });
});

describe('every backend down', () => {
  let lb: TestBalancer;
  before(async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    lb = await startTestBalancer(['--backend', `http://127.0.0.1:${p1}#a`, '--backend', `http://127.0.0.1:${p2}#b`, '--max-fails', '1', '--fail-timeout-ms', '60000']);
  });
  after(() => lb.close());

  it('answers 502 while every backend refuses, and never ejects the last one (no 503 "no healthy backend")', async () => {
    const first = await request(`${lb.base}/`, { headers: { accept: 'text/html' } });
    assert.equal(first.status, 502);
    assert.match(first.body, /502 Bad Gateway/);
    assert.match(String(first.headers['content-type']), /text\/html/);
    const next = await request(`${lb.base}/`, { headers: { accept: 'application/json' } });
    assert.equal(next.status, 502);
    assert.equal((JSON.parse(next.body) as { status: number }).status, 502);
    const api = (await (await fetch(`${lb.admin}/api/backends`)).json()) as { backends: Array<{ health: string; ejections: number }> };
    assert.deepEqual(api.backends.map((b) => b.health).sort(), ['ejected', 'healthy']);
  });
});

describe('retries', () => {
  let good: TestBackend;
  let resets: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    good = await startBackend('good');
    // Reads the whole request, then cuts the connection without answering.
    resets = await startBackend('resets', (_req, res) => res.socket?.destroy());
    lb = await startTestBalancer(['--backend', resets.url, '--backend', good.url, '--strategy', 'round-robin', '--max-fails', '100', '--no-cache']);
  });
  after(async () => {
    await lb.close();
    await good.close();
    await resets.close();
  });

  it('retries a GET on another backend when the first one resets', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await request(`${lb.base}/get-${i}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-served-by'], 'good');
    }
    assert.ok(resets.seen.some((s) => s.url.startsWith('/get-')), 'the resetting backend was never tried');
  });

  it('never retries a POST whose body reached a backend', async () => {
    let sawOn: string | undefined;
    for (let i = 0; i < 4 && !sawOn; i++) {
      const url = `/post-${i}`;
      const res = await request(`${lb.base}${url}`, { method: 'POST', body: 'order=1', headers: { 'content-type': 'text/plain' } });
      if (resets.seen.some((s) => s.url === url)) {
        sawOn = url;
        assert.equal(res.status, 502);
        assert.equal(good.seen.filter((s) => s.url === url).length, 0, 'the POST was replayed on another backend');
      } else {
        assert.equal(res.status, 200);
      }
    }
    assert.ok(sawOn, 'no POST went to the resetting backend');
  });

  it('retries a POST that was never sent (connection refused)', async () => {
    const closedPort = await freePort();
    const lb2 = await startTestBalancer(['--backend', `http://127.0.0.1:${closedPort}#gone`, '--backend', good.url, '--strategy', 'round-robin', '--max-fails', '100', '--no-cache']);
    try {
      for (let i = 0; i < 4; i++) {
        const res = await request(`${lb2.base}/refused-${i}`, { method: 'POST', body: 'x=1' });
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-served-by'], 'good');
      }
      const line = lb2.logLines.find((l) => l['log'] === 'access' && (l['retries'] as number) > 0);
      assert.ok(line, 'no access log line shows a retry');
    } finally {
      await lb2.close();
    }
  });

  it('streams a 3 MB upload whole to one backend (a PUT whose body was sent is not replayed)', async () => {
    const big = 'z'.repeat(3 * 1024 * 1024);
    const before = good.seen.length;
    let res = await request(`${lb.base}/upload`, { method: 'PUT', body: big });
    if (res.status !== 200) res = await request(`${lb.base}/upload`, { method: 'PUT', body: big });
    assert.equal(res.status, 200);
    assert.equal(good.seen.slice(before).find((s) => s.url === '/upload')?.bodyBytes, big.length);
  });
});
