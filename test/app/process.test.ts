// The real dramble-app process: starts from flags, serves, shuts down cleanly on SIGTERM; its
// create-admin command; and a bad configuration stopping it with a message naming the setting.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verifyPassword } from '@dramble/app';
import { spawnTracked } from '../support/index.js';
import { mysqlUrl, startStack, type Stack } from './helpers.js';

const MAIN = 'services/app/src/main.ts';

function runApp(args: string[], env: NodeJS.ProcessEnv = {}): { child: ReturnType<typeof spawnTracked>['child']; exited: Promise<unknown>; out: () => string; err: () => string } {
  const { child, exited } = spawnTracked(process.execPath, ['--conditions=dramble-src', '--import', 'tsx', MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'], NODE_ENV: 'production', ...env },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, exited, out: () => out, err: () => err };
}

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the dramble-app process', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.destroy());

  it('serves the site from flags and environment, and exits 0 on SIGTERM', async () => {
    const p = runApp(
      ['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--mysql-url', mysqlUrl(stack.cluster.primary.port, 'proc'), '--instance-name', 'proc-1'],
      { APP_REDIS_URL: stack.redis.url, APP_MYSQL_REPLICA_URL: mysqlUrl(stack.cluster.replicas[0]!.port, 'proc') },
    );
    await waitFor(() => p.out().includes('"app started"'), `the app to start (stderr: ${p.err()})`);
    const line = JSON.parse(p.out().split('\n').find((l) => l.includes('"app started"'))!) as { listen: { port: number }; admin: { port: number } };
    const home = await fetch(`http://127.0.0.1:${line.listen.port}/`);
    assert.equal(home.status, 200);
    assert.equal(home.headers.get('x-app-instance'), 'proc-1');
    assert.match(await home.text(), /What is the Dramble\?/);
    assert.equal((await fetch(`http://127.0.0.1:${line.admin.port}/readyz`)).status, 200);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
    assert.match(p.out(), /shutdown complete/);
  });

  it('creates an admin from a password file with create-admin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dramble-app-cli-'));
    const file = join(dir, 'password');
    writeFileSync(file, 'a long enough password\n', { mode: 0o600 });
    const url = mysqlUrl(stack.cluster.primary.port, 'cli');
    const ok = runApp(['create-admin', '--email', 'Ops@Dramble.test', '--password-file', file, '--mysql-url', url]);
    assert.equal(await ok.exited, 0, ok.err());
    assert.match(ok.out(), /created admin ops@dramble\.test/);
    const rows = await stack.cluster.primary.query<Array<{ role: string; password_hash: string }>>("SELECT role, password_hash FROM cli.users WHERE email = 'ops@dramble.test'");
    assert.equal(rows[0]?.role, 'admin');
    assert.equal(await verifyPassword('a long enough password', rows[0]!.password_hash), true);

    const dup = runApp(['create-admin', '--email', 'ops@dramble.test', '--password-file', file, '--mysql-url', url]);
    assert.equal(await dup.exited, 1);
    assert.match(dup.err(), /exists already/);
    writeFileSync(file, 'short\n');
    const weak = runApp(['create-admin', '--email', 'weak@dramble.test', '--password-file', file, '--mysql-url', url]);
    assert.equal(await weak.exited, 1);
    assert.match(weak.err(), /at least 10 characters/);
    const token = runApp(['create-token', '--email', 'ops@dramble.test', '--mysql-url', url]);
    assert.equal(await token.exited, 0, token.err());
    assert.match(token.out(), /^dr_[\w-]{40,}\n$/);
  });

  it('refuses to start without the required settings, naming them', async () => {
    const p = runApp(['--mysql-url', 'not-a-url']);
    assert.equal(await p.exited, 2);
    assert.match(p.err(), /setting "mysqlUrl" \(--mysql-url or APP_MYSQL_URL\)/);
    assert.match(p.err(), /setting "redisUrl" \(--redis-url or APP_REDIS_URL\) is required/);
  });
});
