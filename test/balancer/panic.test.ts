// Panic mode through the running balancer: when fewer than --panic-threshold-percent of the
// backends are healthy (here active checks fail on both of two), requests are balanced over all
// of them instead of being refused, with a log line and the dramble_balancer_panic gauge.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBackend, startTestBalancer, request, eventually, type TestBackend, type TestBalancer } from './helpers.js';

async function healths(lb: TestBalancer): Promise<string[]> {
  const res = await fetch(`${lb.admin}/api/backends`);
  return ((await res.json()) as { backends: Array<{ health: string }> }).backends.map((b) => b.health);
}

async function panicGauge(lb: TestBalancer): Promise<number> {
  const text = await (await fetch(`${lb.admin}/metrics`)).text();
  const line = text.split('\n').find((l) => /^dramble_balancer_panic[ {]/.test(l));
  return Number(line?.split(' ').pop());
}

describe('every backend failing its health checks', () => {
  let a: TestBackend;
  let b: TestBackend;
  let healthServer: http.Server;
  let healthy = true;
  let lb: TestBalancer;
  before(async () => {
    a = await startBackend('a');
    b = await startBackend('b');
    // Both apps answer health on one admin port (their /healthz reports the database, say).
    healthServer = http.createServer((_req, res) => {
      res.writeHead(healthy ? 200 : 503, { 'content-length': 0 });
      res.end();
    });
    await new Promise<void>((r) => healthServer.listen(0, '127.0.0.1', r));
    const healthPort = (healthServer.address() as AddressInfo).port;
    lb = await startTestBalancer([
      '--backend', a.url, '--backend', b.url, '--health-interval-ms', '100', '--health-timeout-ms', '500',
      '--health-fall', '2', '--health-rise', '2', '--health-port', String(healthPort), '--slow-start-ms', '0', '--no-cache',
      // Round robin so "over every backend" does not depend on p2c's latency samples.
      '--strategy', 'round-robin',
    ]);
  });
  after(async () => {
    await lb.close();
    await a.close();
    await b.close();
    await new Promise<void>((r) => healthServer.close(() => r()));
  });

  it('balances over all of them (panic), says so, and leaves panic once they are healthy again', async () => {
    assert.equal((await request(`${lb.base}/before`)).status, 200);
    assert.equal(await panicGauge(lb), 0);
    healthy = false;
    await eventually(async () => (await healths(lb)).every((h) => h === 'down'), 15_000, 'both down');
    const servedBy = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const res = await request(`${lb.base}/in-panic/${i}`);
      assert.equal(res.status, 200, 'served, not "503 no healthy backend"');
      servedBy.add(String(res.headers['x-served-by']));
    }
    assert.deepEqual([...servedBy].sort(), ['a', 'b'], 'over every backend, not one');
    assert.equal(await panicGauge(lb), 1);
    assert.ok(lb.logLines.some((l) => /^panic:/.test(String(l['msg'])) && l['healthy'] === 0 && l['total'] === 2), 'a panic log line');
    healthy = true;
    await eventually(async () => (await healths(lb)).every((h) => h === 'healthy'), 15_000, 'both up again');
    assert.equal((await request(`${lb.base}/after`)).status, 200);
    assert.equal(await panicGauge(lb), 0);
    assert.ok(lb.logLines.some((l) => /^panic over/.test(String(l['msg']))));
  });
});

describe('a third of the backends healthy after passive ejections', () => {
  let good: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    good = await startBackend('good');
    // Two backends that refuse connections (nothing listens on those ports any more).
    const dead = await Promise.all([startBackend('dead1'), startBackend('dead2')]);
    for (const d of dead) await d.close();
    lb = await startTestBalancer(['--backend', good.url, '--backend', dead[0]!.url, '--backend', dead[1]!.url, '--max-fails', '1', '--fail-timeout-ms', '60000', '--no-cache']);
  });
  after(async () => {
    await lb.close();
    await good.close();
  });

  it('enters panic, and every GET still succeeds (refused attempts are retried on the good one)', async () => {
    await eventually(async () => {
      assert.equal((await request(`${lb.base}/x`)).status, 200);
      return (await healths(lb)).filter((h) => h === 'ejected').length === 2;
    }, 10_000, 'both dead backends ejected');
    for (let i = 0; i < 10; i++) assert.equal((await request(`${lb.base}/y${i}`)).status, 200);
    assert.equal(await panicGauge(lb), 1);
  });
});
