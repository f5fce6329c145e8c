// The bounded per-backend queue through the running balancer: once a backend's pool connections
// are busy and its queue is full, a request goes to another backend, or when none has room it is
// answered 503 with Retry-After at once instead of waiting without bound.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { startBackend, startTestBalancer, request, eventually, type SimpleResponse, type TestBackend, type TestBalancer } from './helpers.js';

/** A backend whose /stall requests hang until release() (a stalled app); anything else answers at once. */
async function startStallingBackend(name: string): Promise<TestBackend & { stalled: http.ServerResponse[]; release(): void }> {
  const stalled: http.ServerResponse[] = [];
  const b = await startBackend(name, (req, res) => {
    if (req.url?.startsWith('/stall')) {
      stalled.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': name.length });
    res.end(name);
  });
  return Object.assign(b, {
    stalled,
    release() {
      for (const res of stalled.splice(0)) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': name.length });
        res.end(name);
      }
    },
  });
}

async function metric(lb: TestBalancer, name: string): Promise<number> {
  const text = await (await fetch(`${lb.admin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('a stalled backend with pool size 1 and queue 1', () => {
  let app: Awaited<ReturnType<typeof startStallingBackend>>;
  let lb: TestBalancer;
  before(async () => {
    app = await startStallingBackend('app');
    lb = await startTestBalancer(['--backend', app.url, '--backend-connections', '1', '--backend-queue', '1', '--no-cache']);
  });
  after(async () => {
    app.release();
    await lb.close();
    await app.close();
  });

  it('answers a third concurrent request 503 with Retry-After at once, and the first two still complete', async () => {
    const first = request(`${lb.base}/stall/1`);
    await eventually(() => app.stalled.length === 1, 5000, 'the first request at the backend');
    // The second waits in the queue (the only connection is busy).
    const second = request(`${lb.base}/stall/2`);
    await eventually(async () => (await (await fetch(`${lb.admin}/api/backends`)).json() as { backends: Array<{ inFlight: number }> }).backends[0]?.inFlight === 2, 5000, 'the second request queued');
    const t0 = Date.now();
    const third = await request(`${lb.base}/stall/3`, { headers: { accept: 'application/json' } });
    const took = Date.now() - t0;
    assert.equal(third.status, 503);
    assert.ok(Number(third.headers['retry-after']) > 0, 'Retry-After');
    assert.ok(took < 1000, `answered in ${took} ms, not after a wait`);
    assert.equal(await metric(lb, 'dramble_balancer_queue_refusals_total'), 1);
    app.release();
    // The second was still queued when the first was released; it reaches the backend now.
    await eventually(() => app.stalled.length === 1, 5000, 'the queued request at the backend');
    app.release();
    const done: SimpleResponse[] = await Promise.all([first, second]);
    assert.deepEqual(done.map((r) => r.status), [200, 200]);
    // With room again, requests are forwarded as usual.
    assert.equal((await request(`${lb.base}/after`)).status, 200);
  });
});

describe('a full backend beside one with room', () => {
  let a: Awaited<ReturnType<typeof startStallingBackend>>;
  let b: Awaited<ReturnType<typeof startStallingBackend>>;
  let lb: TestBalancer;
  before(async () => {
    a = await startStallingBackend('a');
    b = await startStallingBackend('b');
    lb = await startTestBalancer(['--backend', a.url, '--backend', b.url, '--backend-connections', '1', '--backend-queue', '0', '--no-cache']);
  });
  after(async () => {
    a.release();
    b.release();
    await lb.close();
    await a.close();
    await b.close();
  });

  it('sends the request to the backend with room, and refuses only when neither has any', async () => {
    const first = request(`${lb.base}/stall/1`);
    await eventually(() => a.stalled.length + b.stalled.length === 1, 5000, 'the first stalled request');
    const second = request(`${lb.base}/stall/2`);
    // Whichever took the first, the second must go to the other one (queue 0: no waiting).
    await eventually(() => a.stalled.length === 1 && b.stalled.length === 1, 5000, 'one stalled request on each backend');
    const third = await request(`${lb.base}/stall/3`);
    assert.equal(third.status, 503);
    assert.ok(Number(third.headers['retry-after']) > 0);
    a.release();
    b.release();
    assert.deepEqual((await Promise.all([first, second])).map((r) => r.status), [200, 200]);
  });
});
