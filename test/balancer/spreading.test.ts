// Load spreading by the default strategy (p2c-ewma) through the running balancer: with two equal
// backends p2c compares the same pair every time, so without a margin it turned into "always the
// faster one" (20 sequential requests and 637 long-lived streams all on one app).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startBackend, startTestBalancer, request, eventually, type TestBackend, type TestBalancer } from './helpers.js';

/** An app page that takes `ms` (100 ms: an uncached page rendered on a Pi). */
function page(name: string, ms = 100) {
  return (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': name.length, 'cache-control': 'no-store' });
      res.end(name);
    }, ms);
  };
}

describe('20 sequential uncached requests to two equal backends', () => {
  let a: TestBackend;
  let b: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    a = await startBackend('a', page('a'));
    b = await startBackend('b', page('b'));
    lb = await startTestBalancer(['--backend', a.url, '--backend', b.url]);
  });
  after(async () => {
    await lb.close();
    await a.close();
    await b.close();
  });

  it('gives both a fair share', async () => {
    const by: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 20; i++) {
      const res = await request(`${lb.base}/page/${i}`);
      assert.equal(res.status, 200);
      by[String(res.headers['x-served-by'])]!++;
    }
    // Ties are broken at random: each gets at least 4 of 20 but by bad luck (p < 0.3%).
    assert.ok(by['a']! >= 4 && by['b']! >= 4, JSON.stringify(by));
  });
});

describe('a backend ten times slower than the other', () => {
  let fast: TestBackend;
  let slow: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    fast = await startBackend('fast', page('fast', 100));
    slow = await startBackend('slow', page('slow', 1000));
    lb = await startTestBalancer(['--backend', fast.url, '--backend', slow.url]);
  });
  after(async () => {
    await lb.close();
    await fast.close();
    await slow.close();
  });

  it('still gets almost nothing once measured (the margin does not hide a slow Pi)', async () => {
    let toSlow = 0;
    for (let i = 0; i < 12; i++) if ((await request(`${lb.base}/page/${i}`)).headers['x-served-by'] === 'slow') toSlow++;
    // Until measured it costs like any new backend, so it may get the first request or two.
    assert.ok(toSlow <= 2, `slow got ${toSlow} of 12`);
  });
});

describe('100 long-lived streams over two backends', () => {
  let a: TestBackend;
  let b: TestBackend;
  let lb: TestBalancer;
  const open: http.ServerResponse[] = [];
  const stream = (name: string) => (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    // An event stream: headers and a first event, then held open until the test ends.
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(`data: hello from ${name}\n\n`);
    open.push(res);
  };
  before(async () => {
    a = await startBackend('a', stream('a'));
    b = await startBackend('b', stream('b'));
    // One test client opens all 100 streams: lift the per-client and long-lived caps (overload.test.ts tests those).
    lb = await startTestBalancer(['--backend', a.url, '--backend', b.url, '--max-long-lived', '200', '--max-long-lived-per-client', '200', '--max-in-flight-per-client', '200', '--max-connections-per-client', '200']);
  });
  after(async () => {
    for (const res of open) res.end();
    await lb.close();
    await a.close();
    await b.close();
  });

  it('spreads them: each backend holds between 35 and 65 while they stream', async () => {
    const clients: http.ClientRequest[] = [];
    // Opened one after another, as visitors arrive: each pick sees the streams already open.
    const servedBy: string[] = [];
    for (let i = 0; i < 100; i++) {
      servedBy.push(
        await new Promise<string>((resolve, reject) => {
          const req = http.get(`${lb.base}/events/${i}`, { agent: false }, (res) => {
            res.once('data', () => resolve(String(res.headers['x-served-by'])));
            res.on('error', () => undefined);
          });
          req.on('error', reject);
          clients.push(req);
        }),
      );
    }
    try {
      const na = servedBy.filter((s) => s === 'a').length;
      const nb = servedBy.filter((s) => s === 'b').length;
      assert.equal(na + nb, 100);
      assert.ok(na >= 35 && nb >= 35, `a ${na}, b ${nb}`);
      // Streams still open count as outstanding requests of their backend.
      const api = (await (await fetch(`${lb.admin}/api/backends`)).json()) as { backends: Array<{ name: string; inFlight: number }> };
      assert.deepEqual(api.backends.map((x) => x.inFlight).sort(), [na, nb].sort());
    } finally {
      for (const c of clients) c.destroy();
    }
    await eventually(async () => {
      const api = (await (await fetch(`${lb.admin}/api/backends`)).json()) as { backends: Array<{ inFlight: number }> };
      return api.backends.every((x) => x.inFlight === 0);
    }, 10_000, 'streams closed when the clients went away');
  });
});
