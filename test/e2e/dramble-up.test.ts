// The project's proof that the system works: `dramble up` brings up MariaDB primary + replica,
// Redis, the db-manager, two apps and the balancer from this machine's binaries; the site stays
// up while an app and then the MySQL primary are SIGKILLed; the old primary rejoins as a replica;
// the dashboard shows it all in a real browser; `dramble down` leaves no process behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { freePort, spawnTracked, type Spawned } from '../support/index.js';
import { CLI, ROOT, editorApiToken, http, json, killLeftovers, ours, readClusterJson, readLoad, remember, runCli, seen, until, type ClusterJson } from './helpers.js';

const FAILOVER_GOAL_MS = 10_000;

interface Topology {
  primary: string | null;
  instances: Array<{ id: string; port: number; role: string; healthy?: boolean; readOnly?: boolean; lagSeconds?: number | null }>;
}

describe('dramble up: the whole cluster on one machine', { timeout: 240_000 }, () => {
  let dir: string;
  let up: Spawned;
  let upOutput = '';
  let cluster: ClusterJson;
  let site: string;
  let token: string | undefined;
  let oldPrimary: string | undefined;
  const proc = (name: string) => {
    const p = cluster.processes.find((x) => x.name === name);
    assert.ok(p, `cluster.json lists ${name}`);
    return p;
  };
  const topology = () => json<Topology>(`${proc('db-manager').adminUrl}/api/topology`);
  const roleOfPort = (t: Topology, port: number) => t.instances.find((i) => Number(i.port) === port || i.id.endsWith(`:${port}`));
  const cli = async (...args: string[]) => {
    const r = await runCli([...args, '--dir', dir]);
    assert.equal(r.code, 0, `dramble ${args.join(' ')} failed:\n${r.output}`);
    return r.output;
  };
  const refresh = () => {
    cluster = readClusterJson(dir) ?? cluster;
    remember(cluster);
  };
  process.once('exit', () => killLeftovers());

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dramble-e2e-'));
    const port = await freePort();
    up = spawnTracked(process.execPath, [...CLI, 'up', '--dir', dir, '--port', String(port), '--base-port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    up.child.stdout?.on('data', (d: Buffer) => (upOutput += d.toString()));
    up.child.stderr?.on('data', (d: Buffer) => (upOutput += d.toString()));
    let exited = false;
    void up.exited.then(() => (exited = true));
    cluster = await until('cluster.json to say running', 150_000, () => {
      if (exited) throw Object.assign(new Error(`dramble up exited:\n${upOutput}`), { fatal: true });
      const c = readClusterJson(dir);
      remember(c);
      return c?.state === 'running' ? c : undefined;
    }, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n--- dramble up output ---\n${upOutput}`);
    });
    site = cluster.balancerUrl;
  });

  after(async () => {
    if (up && up.child.exitCode === null && up.child.signalCode === null) {
      up.child.kill('SIGTERM');
      await Promise.race([up.exited, new Promise((r) => setTimeout(r, 60_000))]);
    }
    const killed = killLeftovers();
    if (killed.length > 0) console.error(`killed leftover cluster processes: ${killed.join(', ')}`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes cluster.json with every process, its pid, ports and URLs', () => {
    const roles = cluster.processes.map((p) => p.role).sort();
    assert.deepEqual(roles, ['app', 'app', 'balancer', 'db-manager', 'mysql', 'mysql', 'redis', 'supervisor']);
    for (const p of cluster.processes) {
      assert.ok(p.pid > 0 && p.port > 0, `${p.name} has a pid and a port`);
      if (p.role === 'app' || p.role === 'balancer' || p.role === 'db-manager') assert.match(p.adminUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    }
    assert.match(upOutput, /Dramble is up/);
    const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { adminPassword: string };
    assert.ok(upOutput.includes(creds.adminPassword), 'the first run prints the editor password');
  });

  it('serves pages through the balancer from both app instances', async () => {
    const servedBy = new Set<string>();
    await until('both apps to serve', 30_000, async () => {
      const r = await http(`${site}/?who=${Math.random()}`);
      assert.equal(r.status, 200);
      servedBy.add(String(r.headers['x-served-by']));
      return servedBy.has('app-1') && servedBy.has('app-2');
    }, 50);
    const home = await http(`${site}/`);
    assert.equal(home.status, 200);
    assert.match(String(home.headers['content-type']), /text\/html/);
  });

  it('keeps every GET succeeding while an app instance is SIGKILLed under load', async () => {
    const load = readLoad(site, 6);
    await new Promise((r) => setTimeout(r, 1500));
    const killedAt = Date.now();
    await cli('kill', 'app-1');
    assert.ok(!ours(proc('app-1').pid, proc('app-1').marker), 'app-1 is gone');
    await new Promise((r) => setTimeout(r, 4000));
    const r = await load.stop();
    assert.deepEqual(r.failed, [], `failed GETs after killing app-1 at ${killedAt}`);
    assert.ok(r.ok > 50, `load ran (${r.ok} requests)`);
    assert.ok((r.servedBy.get('app-2') ?? 0) > 0);
    await cli('restart', 'app-1');
    refresh();
    // Under concurrent traffic, as on a real site: the balancer sends the restarted instance work again.
    const again = readLoad(site, 6);
    try {
      await until('app-1 to serve again', 30_000, () => again.peek().servedBy.has('app-1'), 200);
    } finally {
      const r2 = await again.stop();
      assert.deepEqual(r2.failed, [], 'no failed GETs while app-1 comes back');
    }
  });

  it('fails over when the MySQL primary is SIGKILLed: reads keep working, a write succeeds again within the goal', async () => {
    const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { adminEmail: string; adminPassword: string };
    token = await editorApiToken(site, creds.adminEmail, creds.adminPassword);
    const post = async (slug: string) =>
      http(`${site}/api/v1/posts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `Written during ${slug}`, slug, body: 'The site stayed up.', status: 'published' }),
      });
    assert.equal((await post('before-failover')).status, 201, 'a write works before the drill');

    const before = await topology();
    const primary = cluster.processes.find((p) => p.role === 'mysql' && roleOfPort(before, p.port)?.id === before.primary);
    assert.ok(primary, `the db-manager names a primary among the cluster's servers (${JSON.stringify(before)})`);
    oldPrimary = primary.name;

    const load = readLoad(site, 4, '/posts/before-failover');
    await new Promise((r) => setTimeout(r, 1000));
    await cli('kill', 'primary');
    const killedAt = Date.now();
    assert.ok(!ours(primary.pid, primary.marker), `${primary.name} is gone`);

    let attempts = 0;
    const last: string[] = [];
    const writtenAt = await until('a write through the API to succeed after the failover', FAILOVER_GOAL_MS + 2000, async () => {
      attempts++;
      const r = await post(`after-failover-${attempts}`).catch((e: Error) => ({ status: 0, text: e.message }) as { status: number; text: string });
      if (r.status === 201) return Date.now();
      last.push(`${r.status} ${r.text.slice(0, 100)}`);
      return undefined;
    }, 250);
    await new Promise((r) => setTimeout(r, 1000));
    const reads = await load.stop();
    const tookMs = writtenAt - killedAt;
    assert.ok(tookMs <= FAILOVER_GOAL_MS, `write succeeded ${tookMs} ms after the kill (goal ${FAILOVER_GOAL_MS} ms); errors: ${last.slice(-3).join(' | ')}`);
    assert.deepEqual(reads.failed, [], 'every read through the balancer succeeded during the failover');
    assert.ok(reads.ok > 20, `reads ran (${reads.ok})`);

    const after = await topology();
    assert.notEqual(after.primary, before.primary, 'a replica was promoted');
    // Either app instance may answer; one that has not yet switched its pools to the new primary
    // may say 503 (with Retry-After) for a moment, never a wrong answer.
    await until('the write to be readable through the balancer', 10_000, async () => {
      const created = await http(`${site}/api/v1/posts/after-failover-${attempts}`, { headers: { authorization: `Bearer ${token}` } });
      if (created.status === 200) return true;
      assert.equal(created.status, 503, `only a retryable 503 while pools switch: ${created.text.slice(0, 300)}`);
      return undefined;
    }, 250);
  });

  it('brings the old primary back as a replica with `dramble restart`', async () => {
    assert.ok(oldPrimary, 'the failover test ran');
    await cli('restart', oldPrimary);
    refresh();
    const p = proc(oldPrimary);
    const t = await until(`${oldPrimary} to rejoin as a replica`, 60_000, async () => {
      const t = await topology();
      const i = roleOfPort(t, p.port);
      return i && i.id !== t.primary && /replica/i.test(i.role) && i.healthy !== false && typeof i.lagSeconds === 'number' ? t : undefined;
    }, 500);
    const i = roleOfPort(t, p.port);
    assert.equal(i?.readOnly, true, 'the rejoined server is read-only');
    const status = await cli('status', '--json');
    const report = JSON.parse(status) as { processes: Array<{ name: string; health: string }> };
    assert.deepEqual(report.processes.filter((x) => x.health !== 'ready').map((x) => x.name), [], 'every process is ready again');
  });

  it('shows the cluster live on the dashboard in Chromium', async () => {
    let browser: Browser | undefined;
    const load = readLoad(site, 4);
    try {
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(cluster.dashboardUrl);
      await page.locator('#conn.live').waitFor({ timeout: 15_000 });
      await page.locator('[data-app="app-1"]').waitFor({ timeout: 15_000 });
      await page.locator('[data-app="app-2"]').waitFor();
      await page.locator('[data-app] .led.on').first().waitFor({ timeout: 20_000 });
      await page.locator('[data-mysql][data-role="primary"]').waitFor({ timeout: 15_000 });
      assert.equal(await page.locator('[data-mysql][data-role="primary"]').count(), 1, 'exactly one primary shown');
      assert.equal(await page.locator('[data-mysql][data-role="replica"]').count(), 1, 'the replica is shown');
      const timeline = await page.locator('#timeline').innerText();
      assert.match(timeline, new RegExp(`${oldPrimary ?? 'mysql'}|primary|failover`, 'i'), 'the timeline shows the failover');
      mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-artifacts', 'dashboard.png'), fullPage: true });
      assert.deepEqual(problems, [], 'no script errors or CSP violations');
    } finally {
      await browser?.close();
      await load.stop();
    }
  });

  it('`dramble down` stops every process it started', async () => {
    refresh();
    await cli('down');
    await Promise.race([up.exited, new Promise((r) => setTimeout(r, 30_000))]);
    assert.notEqual(up.child.exitCode ?? up.child.signalCode, null, 'dramble up has exited');
    const alive = [...seen].filter(([pid, marker]) => ours(pid, marker)).map(([pid]) => pid);
    assert.deepEqual(alive, [], 'no cluster process is left');
    assert.equal(readClusterJson(dir)?.state, 'stopped');
  });
});
