// `dramble up` as a newcomer runs it twice: Ctrl-C stops every process in reverse start order and
// leaves none; the second start reuses the data dir (same ports, same editor password, content kept).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnTracked } from '../support/index.js';
import { CLI, ROOT, editorApiToken, http, killLeftovers, ours, readClusterJson, remember, seen, until, type ClusterJson } from '../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'dramble-cli-'));

async function startUp(port: number): Promise<{ stop: (signal: NodeJS.Signals) => Promise<{ code: unknown; output: string }>; cluster: ClusterJson; output: () => string }> {
  const up = spawnTracked(process.execPath, [...CLI, 'up', '--dir', dir, '--port', String(port), '--base-port', '0', '--replicas', '0', '--apps', '1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  up.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  up.child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited = false;
  void up.exited.then(() => (exited = true));
  const cluster = await until('dramble up to be running', 120_000, () => {
    if (exited) throw Object.assign(new Error(`dramble up exited:\n${output}`), { fatal: true });
    const c = readClusterJson(dir);
    remember(c);
    return c?.state === 'running' ? c : undefined;
  }, 250);
  return {
    cluster,
    output: () => output,
    async stop(signal) {
      up.child.kill(signal);
      const code = await Promise.race([up.exited, new Promise((r) => setTimeout(() => r('timeout'), 60_000))]);
      return { code, output };
    },
  };
}

describe('dramble up, Ctrl-C, and up again', { timeout: 200_000 }, () => {
  after(() => {
    killLeftovers();
    rmSync(dir, { recursive: true, force: true });
  });

  let firstPorts: Record<string, number> = {};
  let password = '';

  it('stops every process in reverse start order on Ctrl-C and leaves none', async () => {
    const first = await startUp(await freePort());
    firstPorts = Object.fromEntries(first.cluster.processes.map((p) => [p.name, p.port]));
    const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { adminEmail: string; adminPassword: string };
    password = creds.adminPassword;
    assert.equal(statSync(join(dir, 'credentials.json')).mode & 0o777, 0o600, 'credentials are private');
    assert.ok(first.output().includes(password), 'the first run prints the editor password');
    // No secret on any started process's command line (world-readable, what `ps` shows) or in cluster.json.
    const secrets = Object.entries(JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as Record<string, string>).filter(([k]) => /password|token/i.test(k));
    const clusterText = readFileSync(join(dir, 'cluster.json'), 'utf8');
    for (const p of first.cluster.processes) {
      const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').join(' ');
      assert.ok(cmdline.length > 0, `${p.name} has a command line`);
      for (const [name, value] of secrets) {
        assert.ok(!cmdline.includes(value), `${name} is on the command line of ${p.name} (pid ${p.pid})`);
        assert.ok(!clusterText.includes(value), `${name} is in cluster.json`);
      }
    }
    const token = await editorApiToken(first.cluster.balancerUrl, creds.adminEmail, creds.adminPassword);
    const created = await http(`${first.cluster.balancerUrl}/api/v1/posts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Survives a restart', slug: 'survives', body: 'kept in .dramble', status: 'published' }),
    });
    assert.equal(created.status, 201);
    // The services reach Redis as their ACL users (app, dramble-manager) and are never refused.
    for (const name of ['app-1', 'db-manager']) assert.doesNotMatch(readFileSync(join(dir, 'logs', `${name}.log`), 'utf8'), /NOPERM|NOAUTH|WRONGPASS/, `${name} was refused by Redis`);

    const { code, output } = await first.stop('SIGINT');
    assert.equal(code, 0, output);
    const order = [...output.matchAll(/stopped (\S+) \(pid/g)].map((m) => m[1]);
    assert.deepEqual(order, ['balancer', 'app-1', 'db-manager', 'redis', 'mysql-1']);
    assert.deepEqual([...seen].filter(([pid, marker]) => ours(pid, marker)).map(([pid]) => pid), [], 'no process left');
    assert.equal(readClusterJson(dir)?.state, 'stopped');
  });

  it('starts again from the same data: same ports, same login, content kept', async () => {
    assert.ok(password, 'the first run happened');
    const second = await startUp(firstPorts['balancer'] ?? (await freePort()));
    try {
      for (const p of second.cluster.processes.filter((x) => x.role !== 'supervisor')) assert.equal(p.port, firstPorts[p.name], `${p.name} keeps its port`);
      assert.ok(!second.output().includes(password), 'the password is not printed again');
      const page = await until('the post written before the restart', 30_000, async () => {
        const r = await http(`${second.cluster.balancerUrl}/posts/survives`);
        return r.status === 200 ? r : undefined;
      });
      assert.match(page.text, /Survives a restart/);
    } finally {
      const { code, output } = await second.stop('SIGTERM');
      assert.equal(code, 0, output);
    }
  });
});
