// The real dramble-balancer process: SIGKILLed backend under load (zero failed GET/HEAD), SIGHUP
// reload without dropping an in-flight request, SIGTERM drain, and --workers over node:cluster (one
// admin listener for all workers).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePort, spawnTracked, type Spawned } from '../support/index.js';
import { eventually, request } from './helpers.js';

const root = new URL('../../', import.meta.url).pathname;
const node = process.execPath;
const tsx = ['--conditions=dramble-src', '--import', 'tsx'];

interface Proc extends Spawned {
  port: number;
  output: () => string;
}

function spawnLogged(args: string[], port: number): Proc {
  const s = spawnTracked(node, [...tsx, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  s.child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  s.child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return { ...s, port, output: () => out };
}

async function startBackendProcess(name: string): Promise<Proc> {
  const port = await freePort();
  const p = spawnLogged(['test/balancer/fixtures/backend.ts', String(port), name], port);
  await eventually(() => p.output().includes('ready'), 20_000, `backend ${name}`);
  return p;
}

async function startBalancerProcess(args: string[]): Promise<Proc & { admin: number }> {
  const port = await freePort();
  const admin = await freePort();
  const p = spawnLogged(['services/balancer/src/main.ts', '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--log-level', 'warn', ...args], port);
  await eventually(async () => (await fetch(`http://127.0.0.1:${admin}/readyz`)).status === 200, 30_000, `balancer ready (${p.output()})`);
  return { ...p, admin };
}

/** Waits until the balancer reports a request in flight to the named backend. */
async function inFlightOn(adminPort: number, name: string): Promise<void> {
  await eventually(async () => {
    const api = (await (await fetch(`http://127.0.0.1:${adminPort}/api/backends`)).json()) as { backends: Array<{ name: string; inFlight: number }> };
    return (api.backends.find((b) => b.name === name)?.inFlight ?? 0) > 0;
  }, 15_000, `a request in flight on ${name}`);
}

const procs: Proc[] = [];
after(() => {
  for (const p of procs) p.child.kill('SIGKILL');
});

describe('a backend SIGKILLed while load runs', () => {
  it('fails no GET or HEAD', async () => {
    const a = await startBackendProcess('pi1');
    const b = await startBackendProcess('pi2');
    procs.push(a, b);
    const lb = await startBalancerProcess(['--backend', `http://127.0.0.1:${a.port}#pi1`, '--backend', `http://127.0.0.1:${b.port}#pi2`, '--no-cache']);
    procs.push(lb);
    const pool = new Pool(`http://127.0.0.1:${lb.port}`, { connections: 20 });
    const results = { ok: 0, failed: [] as string[], servedBy: new Map<string, number>() };
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const method = i % 3 === 0 ? 'HEAD' : 'GET';
        try {
          const res = await pool.request({ path: `/w${w}/${i}`, method });
          const body = await res.body.text();
          if (res.statusCode !== 200 || (method === 'GET' && body.length !== 2048)) results.failed.push(`${method} ${res.statusCode} ${body.length}`);
          else results.ok++;
          const by = String(res.headers['x-served-by']);
          results.servedBy.set(by, (results.servedBy.get(by) ?? 0) + 1);
        } catch (err) {
          results.failed.push(`${method} ${(err as Error).message}`);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 20 }, (_, w) => worker(w)));
    await eventually(() => results.ok > 300, 30_000, 'load under way');
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = results.ok;
    await eventually(() => results.ok > killedAt + 1000, 60_000, 'load after the kill');
    stop = true;
    await load;
    await pool.close();
    assert.deepEqual(results.failed, [], `failed requests: ${results.failed.slice(0, 5).join('; ')}`);
    assert.ok((results.servedBy.get('pi1') ?? 0) > 0 && (results.servedBy.get('pi2') ?? 0) > 0);
    const api = (await (await fetch(`http://127.0.0.1:${lb.admin}/api/backends`)).json()) as { backends: Array<{ name: string; health: string }> };
    assert.notEqual(api.backends.find((x) => x.name === 'pi1')?.health, 'healthy');
    lb.child.kill('SIGTERM');
    assert.equal(await lb.exited, 0);
  });
});

describe('signals', () => {
  it('SIGHUP reloads the backend list without dropping an in-flight request', async () => {
    const a = await startBackendProcess('old');
    const b = await startBackendProcess('new');
    procs.push(a, b);
    const dir = mkdtempSync(join(tmpdir(), 'balancer-config-'));
    const file = join(dir, 'balancer.json');
    writeFileSync(file, JSON.stringify({ backends: [`http://127.0.0.1:${a.port}#old`], cache: false }));
    const lb = await startBalancerProcess(['--config', file]);
    procs.push(lb);
    const base = `http://127.0.0.1:${lb.port}`;
    assert.equal((await request(`${base}/`)).headers['x-served-by'], 'old');
    const slow = request(`${base}/slow?ms=2000`);
    await inFlightOn(lb.admin, 'old');
    writeFileSync(file, JSON.stringify({ backends: [`http://127.0.0.1:${b.port}#new`], cache: false }));
    lb.child.kill('SIGHUP');
    await eventually(async () => (await request(`${base}/`)).headers['x-served-by'] === 'new', 10_000, 'new backend after SIGHUP');
    const s = await slow;
    assert.equal(s.status, 200);
    assert.equal(s.headers['x-served-by'], 'old');
    assert.equal(s.body.length, 2048);
    lb.child.kill('SIGTERM');
    assert.equal(await lb.exited, 0);
  });

  it('SIGTERM finishes in-flight requests, then exits 0', async () => {
    const a = await startBackendProcess('pi1');
    procs.push(a);
    const lb = await startBalancerProcess(['--backend', `http://127.0.0.1:${a.port}#pi1`, '--shutdown-deadline-ms', '5000']);
    procs.push(lb);
    const slow = request(`http://127.0.0.1:${lb.port}/slow?ms=1500`);
    await inFlightOn(lb.admin, 'pi1');
    lb.child.kill('SIGTERM');
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 2048);
    assert.equal(await lb.exited, 0);
    await assert.rejects(request(`http://127.0.0.1:${lb.port}/`));
  });

  it('--workers 2 serves from two processes sharing the port and stops on SIGTERM', async () => {
    const a = await startBackendProcess('pi1');
    procs.push(a);
    const lb = await startBalancerProcess(['--backend', `http://127.0.0.1:${a.port}#pi1`, '--workers', '2']);
    procs.push(lb);
    for (let i = 0; i < 10; i++) assert.equal((await request(`http://127.0.0.1:${lb.port}/`)).status, 200);
    lb.child.kill('SIGTERM');
    assert.equal(await lb.exited, 0);
  });

  it('--workers 2 has one admin listener for all workers: metrics add up, a purge and a drain reach every worker', async () => {
    const a = await startBackendProcess('pi1');
    procs.push(a);
    const lb = await startBalancerProcess(['--backend', `http://127.0.0.1:${a.port}#pi1`, '--workers', '2', '--purge-token', 'tok', '--drain-token', 'drain-tok']);
    procs.push(lb);
    const adminUrl = `http://127.0.0.1:${lb.admin}`;
    await eventually(async () => ((await (await fetch(`${adminUrl}/readyz`)).json()) as { checks: { workers?: { detail?: { ready: number } } } }).checks.workers?.detail?.ready === 2, 30_000, 'both workers ready');
    // A new connection per request: node:cluster hands connections to the workers in turn.
    const get = (path: string): Promise<{ status: number; cache: string | undefined }> =>
      new Promise((resolve, reject) => {
        http
          .get(`http://127.0.0.1:${lb.port}${path}`, { agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, cache: res.headers['x-cache'] as string | undefined }));
          })
          .on('error', reject);
      });
    const caches: Array<string | undefined> = [];
    for (let i = 0; i < 10; i++) caches.push((await get('/cached')).cache);
    assert.equal(caches.filter((c) => c === 'MISS').length, 2, `one miss per worker, then hits: ${caches.join(' ')}`);

    const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
    const answered = metrics
      .split('\n')
      .filter((l) => l.startsWith('dramble_balancer_requests_total{') && l.includes('code="2xx"'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    assert.equal(answered, 10, 'the primary adds up both workers\' counts');

    const purgeBody = JSON.stringify({ urls: ['/cached'] });
    const denied = await fetch(`${adminUrl}/api/cache/purge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: purgeBody });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('www-authenticate'), 'Bearer', 'refused by the primary itself, with the challenge');
    const purge = await fetch(`${adminUrl}/api/cache/purge`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer tok' }, body: purgeBody });
    assert.equal(purge.status, 200);
    assert.deepEqual(await purge.json(), { purged: 2, workers: 2 }, 'each worker dropped its copy');
    assert.deepEqual([(await get('/cached')).cache, (await get('/cached')).cache], ['MISS', 'MISS']);

    const byPurgeToken = await fetch(`${adminUrl}/api/backends/pi1/drain`, { method: 'POST', headers: { authorization: 'Bearer tok' } });
    assert.equal(byPurgeToken.status, 403, 'every worker refuses a drain by the purge token');
    const drain = await fetch(`${adminUrl}/api/backends/pi1/drain`, { method: 'POST', headers: { authorization: 'Bearer drain-tok' } });
    assert.equal(drain.status, 200);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get('/')).status);
    assert.deepEqual(statuses, [503, 503, 503, 503], 'no worker sends to the drained backend');
    assert.equal((await fetch(`${adminUrl}/api/backends/pi1/undrain`, { method: 'POST', headers: { authorization: 'Bearer drain-tok' } })).status, 200);
    assert.equal((await get('/')).status, 200);
    assert.equal((await get('/')).status, 200);

    lb.child.kill('SIGTERM');
    assert.equal(await lb.exited, 0);
  });

  it('refuses an invalid config at start, naming the setting', async () => {
    const p = spawnLogged(['services/balancer/src/main.ts', '--strategy', 'hash'], 0);
    assert.equal(await p.exited, 2);
    assert.match(p.output(), /hashOn|--hash-on/);
  });
});
