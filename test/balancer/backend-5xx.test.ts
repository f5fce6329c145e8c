// Backends that answer 5xx through the running balancer: a 503 never turns into a site-wide
// "503 no healthy backend" (5xx ejection is opt-in, a 503 with Retry-After never counts, the last
// healthy backend is never ejected), and the cache keeps serving stale copies while they do.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startTestBalancer, request, eventually, type TestBackend, type TestBalancer } from './helpers.js';

interface ApiBackend {
  name: string;
  health: string;
  consecutiveFails: number;
  ejections: number;
}

async function apiBackends(lb: TestBalancer): Promise<ApiBackend[]> {
  const res = await fetch(`${lb.admin}/api/backends`);
  return ((await res.json()) as { backends: ApiBackend[] }).backends;
}

/** A backend that answers 503 (optionally with Retry-After) while `failing`, 200 otherwise. */
async function startFlappingBackend(name: string, state: { failing: boolean; retryAfter: boolean }): Promise<TestBackend> {
  return startBackend(name, (req, res) => {
    if (state.failing) {
      const body = 'database failover in progress';
      res.writeHead(503, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...(state.retryAfter ? { 'retry-after': '2' } : {}) });
      res.end(body);
      return;
    }
    const body = `page from ${name} for ${req.url}`;
    // A page the cache may keep: fresh for 1 s, then served stale while backends fail (up to 60 s).
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'cache-control': 'public, max-age=1, stale-if-error=60' });
    res.end(body);
  });
}

const CASES: Array<{ what: string; flags: string[]; retryAfter: boolean; countsFails: boolean }> = [
  { what: 'default --fail-status (none), 503 without Retry-After', flags: [], retryAfter: false, countsFails: false },
  { what: '--fail-status 503, 503 with Retry-After', flags: ['--fail-status', '503'], retryAfter: true, countsFails: false },
  { what: '--fail-status 503, 503 without Retry-After (the last healthy backend is kept)', flags: ['--fail-status', '503'], retryAfter: false, countsFails: true },
];

describe('the only backend answering 503 three times', () => {
  for (const c of CASES) {
    it(`passes the 503s through and the next good answer reaches the client: ${c.what}`, async () => {
      const state = { failing: true, retryAfter: c.retryAfter };
      const app = await startFlappingBackend('app', state);
      const lb = await startTestBalancer(['--backend', app.url, '--max-fails', '3', '--fail-timeout-ms', '60000', '--no-cache', ...c.flags]);
      try {
        for (let i = 0; i < 3; i++) {
          const res = await request(`${lb.base}/p${i}`);
          assert.equal(res.status, 503);
          // The app's own answer, not the balancer's error page.
          assert.equal(res.body, 'database failover in progress');
          assert.equal(res.headers['x-served-by'], 'app');
        }
        const [b] = await apiBackends(lb);
        assert.equal(b?.health, 'healthy');
        assert.equal(b?.ejections, 0);
        assert.equal(b?.consecutiveFails, c.countsFails ? 3 : 0);
        state.failing = false;
        const ok = await request(`${lb.base}/after`);
        assert.equal(ok.status, 200);
        assert.equal(ok.body, 'page from app for /after');
        assert.equal((await apiBackends(lb))[0]?.consecutiveFails, 0, 'a good answer resets the count');
      } finally {
        await lb.close();
        await app.close();
      }
    });
  }
});

describe('two of two backends answering 503', () => {
  for (const flags of [[], ['--fail-status', '503']]) {
    const label = flags.length === 0 ? 'default --fail-status' : '--fail-status 503';
    describe(label, () => {
      const state = { failing: false, retryAfter: false };
      let a: TestBackend;
      let b: TestBackend;
      let lb: TestBalancer;
      before(async () => {
        a = await startFlappingBackend('a', state);
        b = await startFlappingBackend('b', state);
        lb = await startTestBalancer(['--backend', a.url, '--backend', b.url, '--max-fails', '2', '--fail-timeout-ms', '60000', ...flags]);
      });
      after(async () => {
        await lb.close();
        await a.close();
        await b.close();
      });

      it('keeps at least one in rotation and serves the cached page stale (X-Cache STALE) meanwhile', async () => {
        const first = await request(`${lb.base}/cached`);
        assert.equal(first.status, 200);
        assert.equal(first.headers['x-cache'], 'MISS');
        assert.equal((await request(`${lb.base}/cached`)).headers['x-cache'], 'HIT');
        state.failing = true;
        // Past its 1 s of freshness, the copy answers while every backend says 503.
        const stale = await eventually(async () => {
          const r = await request(`${lb.base}/cached`);
          return r.headers['x-cache'] === 'STALE' ? r : undefined;
        }, 10_000, 'a stale answer');
        assert.equal(stale.status, 200);
        assert.match(stale.body, /^page from [ab] for \/cached$/);
        // Uncached pages get the app's 503s, never the balancer's "no healthy backend".
        for (let i = 0; i < 8; i++) {
          const r = await request(`${lb.base}/live${i}`);
          assert.equal(r.status, 503);
          assert.equal(r.body, 'database failover in progress');
          assert.equal((await request(`${lb.base}/cached`)).headers['x-cache'], 'STALE');
        }
        const health = (await apiBackends(lb)).map((x) => x.health);
        if (flags.length === 0) assert.deepEqual(health, ['healthy', 'healthy'], '5xx answers do not count by default');
        else assert.ok(health.includes('healthy'), `no ejection cascade: ${health.join(', ')}`);
        state.failing = false;
        assert.equal((await request(`${lb.base}/live-again`)).status, 200);
      });
    });
  }
});
