// Health through the running balancer: passive ejection and half-open re-admission, active
// checks (on a separate health port), drain through the admin API, stickiness by cookie.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBackend, startTestBalancer, request, eventually, type TestBackend, type TestBalancer } from './helpers.js';

interface ApiBackend {
  id: string;
  name: string;
  health: string;
  draining: boolean;
  ejections: number;
  inFlight: number;
  ewmaMs: number;
}

async function apiBackends(lb: TestBalancer): Promise<ApiBackend[]> {
  const res = await fetch(`${lb.admin}/api/backends`);
  return ((await res.json()) as { backends: ApiBackend[] }).backends;
}

describe('passive ejection and half-open re-admission', () => {
  let good: TestBackend;
  let flaky: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    good = await startBackend('good');
    flaky = await startBackend('flaky');
    lb = await startTestBalancer(['--backend', good.url, '--backend', flaky.url, '--strategy', 'round-robin', '--max-fails', '2', '--fail-timeout-ms', '4000', '--slow-start-ms', '0', '--no-cache']);
  });
  after(async () => {
    await lb.close();
    await good.close();
    await flaky.close();
  });

  it('ejects a refusing backend, sends it nothing while ejected, and takes it back once it answers', async () => {
    const port = flaky.port;
    await flaky.close();
    // Every GET succeeds (retried on the good one) while the flaky one gets ejected.
    for (let i = 0; i < 6; i++) assert.equal((await request(`${lb.base}/a${i}`)).status, 200);
    const ejected = (await apiBackends(lb)).find((b) => b.name === 'flaky');
    assert.equal(ejected?.health, 'ejected');
    assert.ok((ejected?.ejections ?? 0) >= 1);

    flaky = await startBackend('flaky', undefined, port);
    // While ejected (4 s; generous for a loaded machine) it gets nothing.
    for (let i = 0; i < 4; i++) assert.equal((await request(`${lb.base}/b${i}`)).headers['x-served-by'], 'good');
    assert.equal(flaky.seen.length, 0);
    // After the backoff a safe request is the half-open trial; success re-admits it.
    await eventually(async () => (await request(`${lb.base}/c`)).headers['x-served-by'] === 'flaky', 20_000, 're-admission');
    assert.equal((await apiBackends(lb)).find((b) => b.name === 'flaky')?.health, 'healthy');
  });

  it('counts the 5xx answers listed in --fail-status (503 here; none by default) towards ejection', async () => {
    const sick = await startBackend('sick', (_req, res) => {
      res.writeHead(503, { 'content-length': 0 });
      res.end();
    });
    const lb2 = await startTestBalancer(['--strategy', 'round-robin', '--backend', sick.url, '--backend', good.url, '--max-fails', '2', '--fail-timeout-ms', '60000', '--fail-status', '503', '--no-cache']);
    try {
      await eventually(async () => {
        await request(`${lb2.base}/x`);
        return (await apiBackends(lb2)).find((b) => b.name === 'sick')?.health === 'ejected';
      }, 10_000, 'ejection of the 503 backend');
      const before = sick.seen.length;
      for (let i = 0; i < 5; i++) assert.equal((await request(`${lb2.base}/y${i}`)).status, 200);
      assert.equal(sick.seen.length, before);
    } finally {
      await lb2.close();
      await sick.close();
    }
  });
});

describe('active health checks', () => {
  let app: TestBackend;
  let healthServer: http.Server;
  let healthy = true;
  let checks = 0;
  let lb: TestBalancer;
  before(async () => {
    app = await startBackend('app');
    // The app answers health on its admin port, not its public one.
    healthServer = http.createServer((req, res) => {
      checks++;
      res.writeHead(req.url === '/healthz' && healthy ? 200 : 503, { 'content-length': 0 });
      res.end();
    });
    await new Promise<void>((r) => healthServer.listen(0, '127.0.0.1', r));
    const healthPort = (healthServer.address() as AddressInfo).port;
    lb = await startTestBalancer(['--backend', app.url, '--health-interval-ms', '100', '--health-timeout-ms', '500', '--health-fall', '2', '--health-rise', '2', '--health-port', String(healthPort), '--slow-start-ms', '0',
      // Without panic mode: the only backend down really takes it out of rotation (with the default
      // threshold the balancer would balance over it anyway; panic.test.ts covers that).
      '--panic-threshold-percent', '0']);
  });
  after(async () => {
    await lb.close();
    await app.close();
    await new Promise<void>((r) => healthServer.close(() => r()));
  });

  it('takes a backend down after `fall` failed checks and up after `rise` passes', async () => {
    await eventually(() => checks >= 2, 15_000, 'first checks');
    assert.equal((await apiBackends(lb))[0]?.health, 'healthy');
    healthy = false;
    await eventually(async () => (await apiBackends(lb))[0]?.health === 'down', 15_000, 'down');
    const res = await request(`${lb.base}/while-down`);
    assert.equal(res.status, 503);
    assert.equal(app.seen.some((s) => s.url === '/while-down'), false);
    healthy = true;
    await eventually(async () => (await apiBackends(lb))[0]?.health === 'healthy', 15_000, 'up again');
    assert.equal((await request(`${lb.base}/after`)).status, 200);
  });

  it('reports readiness on the admin listener', async () => {
    const res = await fetch(`${lb.admin}/readyz`);
    assert.equal(res.status, 200);
  });
});

describe('drain through the admin API', () => {
  let a: TestBackend;
  let b: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    a = await startBackend('a');
    b = await startBackend('b');
    lb = await startTestBalancer(['--backend', a.url, '--backend', b.url, '--drain-token', 'sekrit', '--strategy', 'round-robin', '--no-cache']);
  });
  after(async () => {
    await lb.close();
    await a.close();
    await b.close();
  });

  it('refuses without the token, then stops sending new requests to the drained backend', async () => {
    const id = `127.0.0.1:${a.port}`;
    const denied = await fetch(`${lb.admin}/api/backends/${encodeURIComponent(id)}/drain`, { method: 'POST' });
    assert.equal(denied.status, 401);
    const wrong = await fetch(`${lb.admin}/api/backends/${encodeURIComponent(id)}/drain`, { method: 'POST', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${lb.admin}/api/backends/${encodeURIComponent(id)}/drain`, { method: 'POST', headers: { authorization: 'Bearer sekrit' } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { backend: ApiBackend }).backend.draining, true);
    const before = a.seen.length;
    for (let i = 0; i < 6; i++) assert.equal((await request(`${lb.base}/d${i}`)).headers['x-served-by'], 'b');
    assert.equal(a.seen.length, before);
    const undrain = await fetch(`${lb.admin}/api/backends/a/undrain`, { method: 'POST', headers: { authorization: 'Bearer sekrit' } });
    assert.equal(undrain.status, 200);
    const served = new Set<string>();
    for (let i = 0; i < 6; i++) served.add(String((await request(`${lb.base}/u${i}`)).headers['x-served-by']));
    assert.deepEqual([...served].sort(), ['a', 'b']);
  });

  it('lists backends with health, in-flight, EWMA latency and ejections', async () => {
    // Small responses complete with their headers: each must still give its in-flight slot back.
    await Promise.all(Array.from({ length: 20 }, (_, i) => request(`${lb.base}/f${i}`)));
    const list = await apiBackends(lb);
    assert.equal(list.length, 2);
    for (const x of list) {
      assert.equal(x.inFlight, 0, `${x.name} shows no request in flight once every response is complete`);
      assert.equal(typeof x.ewmaMs, 'number');
      assert.equal(typeof x.ejections, 'number');
      assert.equal(x.health, 'healthy');
    }
  });

  it('exposes Prometheus metrics for requests and backend health', async () => {
    const text = await (await fetch(`${lb.admin}/metrics`)).text();
    assert.match(text, /dramble_balancer_requests_total\{[^}]*code="2xx"/);
    assert.match(text, /dramble_balancer_request_duration_seconds_bucket/);
    assert.match(text, /dramble_balancer_backend_health\{[^}]*backend="a"/);
  });
});

describe('stickiness by consistent hashing', () => {
  const backends: TestBackend[] = [];
  let lb: TestBalancer;
  before(async () => {
    for (const n of ['s1', 's2', 's3']) backends.push(await startBackend(n));
    lb = await startTestBalancer([...backends.flatMap((b) => ['--backend', b.url]), '--strategy', 'hash', '--hash-on', 'cookie:sid', '--no-cache']);
  });
  after(async () => {
    await lb.close();
    for (const b of backends) await b.close();
  });

  it('sends every request of one session to the same backend, and sessions across backends', async () => {
    const owners = new Set<string>();
    for (let s = 0; s < 12; s++) {
      const cookie = `theme=dark; sid=session-${s}`;
      const first = String((await request(`${lb.base}/p`, { headers: { cookie } })).headers['x-served-by']);
      for (let i = 0; i < 4; i++) assert.equal((await request(`${lb.base}/p${i}`, { headers: { cookie } })).headers['x-served-by'], first);
      owners.add(first);
    }
    assert.ok(owners.size >= 2, `all sessions on ${[...owners].join(',')}`);
  });
});
