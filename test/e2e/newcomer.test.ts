// A newcomer's path, on a fresh clone: `git clone` of the committed HEAD into a temporary
// directory, `npm ci` (offline from the npm cache), `npm start`, then every command the README's
// quick start and `dramble up`'s closing lines suggest, in order, through `npx dramble` as the
// README spells them. No build runs: the bins must work without dist/ (lib/bin/launch.js).
// Takes 150 s on the shared 2-core box when it is quiet and up to 6 minutes at load average 15:
// `npm ci` (36-60 s, 220 MB of node_modules), starting MariaDB and the services, and each
// `npx dramble` start from the sources (2-5 s; the status polls are CLI runs too, on purpose).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnTracked, type Spawned } from '../support/index.js';
import { ROOT, http, killLeftovers, ours, readClusterJson, remember, seen, until, type ClusterJson } from './helpers.js';

interface Status {
  state: string;
  processes: Array<{ name: string; role: string; health: 'ready' | 'not-ready' | 'down' }>;
  topology: { primary: string | null; names: Record<string, string> } | null;
}

// A newcomer's shell: no NODE_ENV=test, no test-runner flags.
const env: NodeJS.ProcessEnv = { ...process.env };
delete env['NODE_ENV'];
delete env['NODE_OPTIONS'];

const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
const skip = head.status !== 0 ? `SKIPPED: ${ROOT} is not a git checkout (git rev-parse HEAD: ${head.stderr.trim()}); the fresh-clone test clones it` : false;
if (skip) console.error(skip);

describe('a fresh clone: npm ci, npm start and every suggested command work without a build', { skip, timeout: 480_000 }, () => {
  let clone: string;
  let dir: string;
  let up: Spawned | undefined;
  let upOutput = '';
  let cluster: ClusterJson;
  process.once('exit', () => killLeftovers());

  const run = (command: string, args: string[], timeoutMs: number) => {
    const r = spawnSync(command, args, { cwd: clone, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
  };
  /** `npx dramble <args> --dir <dir>`: its exit code and output. */
  const npxDramble = async (...args: string[]): Promise<{ code: number | string | null; output: string }> => {
    // Asynchronous, so that the event loop (and `npm start`'s output capture) keeps running.
    const p = spawnTracked('npx', ['dramble', ...args, '--dir', dir], { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    p.child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 120_000);
    const code = await p.exited;
    clearTimeout(timer);
    remember(readClusterJson(dir));
    return { code, output };
  };
  /** The same, which must exit 0; returns its output. */
  const dramble = async (...args: string[]): Promise<string> => {
    const r = await npxDramble(...args);
    assert.equal(r.code, 0, `npx dramble ${args.join(' ')} exited ${String(r.code)}:\n${r.output}`);
    return r.output;
  };
  /** `status --json` exits 1 while a process is not ready (the drills want to see that), 0 when all are. */
  const status = async (): Promise<Status> => {
    const r = await npxDramble('status', '--json');
    assert.ok(r.code === 0 || r.code === 1, `npx dramble status --json exited ${String(r.code)}:\n${r.output}`);
    return JSON.parse(r.output) as Status;
  };
  const health = (s: Status, name: string) => s.processes.find((p) => p.name === name)?.health;
  const primaryName = (s: Status) => (s.topology?.primary ? s.topology.names[s.topology.primary] ?? s.topology.primary : undefined);

  before(async () => {
    clone = mkdtempSync(join(tmpdir(), 'dramble-clone-'));
    const sha = head.stdout.trim();
    for (const [cmd, args] of [
      ['git', ['clone', '-q', '--no-checkout', ROOT, clone]],
      ['git', ['checkout', '-q', sha]],
    ] as const) {
      const r = run(cmd, [...args], 60_000);
      assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.output}`);
    }
    assert.ok(!existsSync(join(clone, 'cli', 'dist')), 'the clone has no build');
    const t0 = Date.now();
    // Offline from the npm cache (CI's own `npm ci` fills it); online only when the cache lacks a package.
    let ci = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], 240_000);
    if (ci.code !== 0 && /ENOTCACHED/.test(ci.output)) ci = run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], 240_000);
    assert.equal(ci.code, 0, `npm ci in the clone:\n${ci.output}`);
    console.error(`fresh clone: npm ci took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    assert.ok(!existsSync(join(clone, 'cli', 'dist')), 'npm ci does not build: the bins must run from the sources');

    dir = join(clone, '.dramble-newcomer');
    const port = await freePort();
    // The quick start's `npm start`, with its own data dir and free ports so it runs beside anything.
    up = spawnTracked('npm', ['start', '--', '--dir', dir, '--port', String(port), '--base-port', '0'], { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    up.child.stdout?.on('data', (d: Buffer) => (upOutput += d.toString()));
    up.child.stderr?.on('data', (d: Buffer) => (upOutput += d.toString()));
    let exited = false;
    void up.exited.then(() => (exited = true));
    cluster = await until('cluster.json to say running', 150_000, () => {
      if (exited) throw Object.assign(new Error(`npm start exited:\n${upOutput}`), { fatal: true });
      const c = readClusterJson(dir);
      remember(c);
      return c?.state === 'running' ? c : undefined;
    }, 250).catch((err: Error) => {
      throw new Error(`${err.message}\n--- npm start output ---\n${upOutput}`);
    });
  });

  after(async () => {
    if (up?.child.pid && up.child.exitCode === null && up.child.signalCode === null) {
      try {
        process.kill(-up.child.pid, 'SIGTERM'); // npm, its shell and `dramble up`
      } catch {
        /* gone */
      }
      await Promise.race([up.exited, new Promise((r) => setTimeout(r, 60_000))]);
    }
    const killed = killLeftovers();
    if (killed.length > 0) console.error(`killed leftover cluster processes: ${killed.join(', ')}`);
    if (clone) rmSync(clone, { recursive: true, force: true });
  });

  it('`npm start` ends by suggesting the commands this test runs next', () => {
    assert.match(upOutput, /Dramble is up/);
    assert.match(upOutput, /try: dramble status · dramble load · dramble kill primary · dramble kill app-1 · dramble switchover/);
  });

  it('`dramble status` and `dramble status --json` report every process ready', async () => {
    const text = await dramble('status');
    for (const p of cluster.processes) assert.ok(text.includes(p.name), `status names ${p.name}:\n${text}`);
    const s = await until('every process to be ready (status --json exits 0)', 30_000, async () => JSON.parse(await dramble('status', '--json')) as Status, 500);
    assert.deepEqual(s.processes.filter((p) => p.health !== 'ready').map((p) => p.name), []);
    assert.equal(s.state, 'running');
    assert.ok(primaryName(s), 'status --json names the MySQL primary');
  });

  it('`dramble load --duration 3` sends load through the balancer without an error', async () => {
    const out = await dramble('load', '--duration', '3');
    assert.match(out, /total: [1-9]\d* requests, 0 errors/);
  });

  it('`dramble kill app-1` kills it and the site stays up; `dramble restart app-1` brings it back', async () => {
    await dramble('kill', 'app-1');
    assert.equal(health(await status(), 'app-1'), 'down');
    const home = await http(`${cluster.balancerUrl}/`);
    assert.equal(home.status, 200, 'the other app serves the site');
    await dramble('restart', 'app-1');
    await until('app-1 to be ready again', 30_000, async () => health(await status(), 'app-1') === 'ready', 500);
  });

  it('`dramble switchover` moves the primary', async () => {
    const before = primaryName(await status());
    const out = await dramble('switchover');
    assert.match(out, /primary is now/);
    const after = primaryName(await status());
    assert.ok(before && after && after !== before, `the primary moved from ${before} to ${after}`);
  });

  it('`dramble kill primary` fails over; `dramble restart` brings the old primary back', async () => {
    const before = primaryName(await status());
    assert.ok(before, 'a primary before the drill');
    await dramble('kill', 'primary');
    const after = await until('a new primary after the kill', 30_000, async () => {
      const s = await status();
      const p = primaryName(s);
      return health(s, before) === 'down' && p && p !== before ? p : undefined;
    }, 500);
    assert.notEqual(after, before);
    await dramble('restart', before);
    await until(`${before} to be ready again`, 60_000, async () => health(await status(), before) === 'ready', 500);
  });

  it('`dramble down` stops the cluster and `npm start` exits', async () => {
    await dramble('down');
    await Promise.race([up?.exited, new Promise((r) => setTimeout(r, 30_000))]);
    assert.notEqual(up?.child.exitCode ?? up?.child.signalCode ?? null, null, 'npm start has exited');
    assert.equal(readClusterJson(dir)?.state, 'stopped');
    const alive = [...seen].filter(([pid, marker]) => ours(pid, marker)).map(([pid]) => pid);
    assert.deepEqual(alive, [], 'no cluster process is left');
  });
});
