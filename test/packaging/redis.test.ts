// Redis as the manifests and docker-compose.yml run it, on the real redis-server: the arguments are
// accepted, a password is required, the probes' `redis-cli ping` gets in with REDISCLI_AUTH, and the
// URLs the app and the db-manager get (from secret.example.yaml) authenticate as their ACL users: the
// app's may not write or publish dramble:topology, the db-manager's may.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, REDIS_SERVER, spawnTracked, type Spawned } from '../support/index.js';
import { builds, composeEnv, composeFile, exampleSecret, resolveEnv, root, workloads } from './support.js';
import { redisAclFile } from '../../cli/src/local/redis-acl.js';

const execFileP = promisify(execFile);

/** `$(VAR)` in args, expanded from the container's environment as the kubelet does. */
function expand(args: string[], env: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\$\((\w+)\)/g, (m, name: string) => env[name] ?? m));
}

async function cli(port: number, args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await execFileP('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { env: { PATH: process.env.PATH, ...env }, timeout: 10_000 });
  return stdout.trim();
}

interface Running {
  port: number;
  proc: Spawned;
  dir: string;
}

async function startWith(args: string[], probeEnv: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dramble-redis-args-'));
  // The container's arguments, then only what a test host needs: its own port, loopback, a scratch dir.
  const proc = spawnTracked(REDIS_SERVER, [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir]);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const out = await cli(port, ['ping'], probeEnv).catch(() => '');
    if (out === 'PONG') return { port, proc, dir };
    if (proc.child.exitCode !== null) throw new Error(`redis-server exited (${proc.child.exitCode}) with args ${args.join(' ')}`);
    if (Date.now() > deadline) throw new Error('redis-server did not answer the probe within 20 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(r: Running | undefined): Promise<void> {
  if (!r) return;
  r.proc.child.kill('SIGKILL');
  await r.proc.exited;
  rmSync(r.dir, { recursive: true, force: true });
}

async function connectAs(url: string, port: number): Promise<Redis> {
  const u = new URL(url);
  assert.equal(u.hostname, 'redis');
  u.hostname = '127.0.0.1';
  u.port = String(port);
  const client = new Redis(u.toString(), { lazyConnect: true, maxRetriesPerRequest: 0 });
  await client.connect();
  return client;
}

describe('Redis in Kubernetes', () => {
  const objs = builds().get('pi')!;
  const redis = workloads(objs).find((w) => w.name === 'redis')!;
  const c = redis.pod.containers[0]! as (typeof redis.pod.containers)[number] & { args: string[]; volumeMounts?: Array<{ name: string; mountPath: string }> };
  const env = resolveEnv(c, objs).values;
  const secret = exampleSecret().data;
  let r: Running | undefined;
  const aclDir = mkdtempSync(join(tmpdir(), 'dramble-redis-acl-'));
  after(async () => {
    await stop(r);
    rmSync(aclDir, { recursive: true, force: true });
  });

  /** The manifest args with the Secret volume's users.acl at a scratch path, as the kubelet mounts it. */
  function argsWithAclFile(): string[] {
    const volumes = (redis.pod as { volumes?: Array<{ name: string; secret?: { secretName: string; items?: Array<{ key: string; path: string }> } }> }).volumes ?? [];
    const mounts = c.volumeMounts ?? [];
    return expand(c.args, env).map((a) => {
      for (const v of volumes.filter((x) => x.secret)) {
        const m = mounts.find((x) => x.name === v.name);
        for (const item of v.secret!.items ?? []) {
          if (!m || a !== `${m.mountPath}/${item.path}`) continue;
          const file = join(aclDir, item.path);
          writeFileSync(file, secret[item.key]!, { mode: 0o600 });
          return file;
        }
      }
      return a;
    });
  }

  it('starts with the manifest arguments and answers the probe command with REDISCLI_AUTH', async () => {
    assert.ok(!c.args.some((a) => /\$\(\w+\)/.test(a)), 'no variable (and so no Secret value) on the command line');
    const args = argsWithAclFile();
    assert.ok(args.some((a) => a.startsWith(aclDir)), 'the --aclfile path is the mounted Secret key');
    r = await startWith(args, { REDISCLI_AUTH: env.REDISCLI_AUTH! });
    assert.deepEqual(c.readinessProbe?.exec?.command, ['redis-cli', 'ping']);
    assert.equal(await cli(r.port, ['config', 'get', 'maxmemory-policy'], { REDISCLI_AUTH: env.REDISCLI_AUTH! }), 'maxmemory-policy\nnoeviction', 'a full Redis refuses writes, never evicts sessions or limiter counters');
    assert.equal(await cli(r.port, ['config', 'get', 'save'], { REDISCLI_AUTH: env.REDISCLI_AUTH! }), 'save', 'no snapshots');
  });

  it('refuses clients without the password', async () => {
    assert.match(await cli(r!.port, ['ping'], {}), /NOAUTH/);
  });

  it("the app's redis-url logs in as the app user, which cannot write or publish dramble:topology", async () => {
    const manager = await connectAs(secret['db-manager-redis-url']!, r!.port);
    const app = await connectAs(secret['app-redis-url']!, r!.port);
    try {
      assert.equal(await app.call('acl', 'whoami').catch((e: Error) => e.message), 'NOPERM this user has no permissions to run the \'acl|whoami\' command');
      assert.equal(await manager.set('dramble:topology', '{"epoch":1}'), 'OK');
      assert.equal(typeof (await manager.publish('dramble:topology', '{"epoch":1}')), 'number');
      await assert.rejects(app.set('dramble:topology', '{"epoch":99}'), /NOPERM/);
      await assert.rejects(app.publish('dramble:topology', '{"epoch":99}'), /NOPERM/);
      assert.equal(await app.get('dramble:topology'), '{"epoch":1}');
      assert.equal(await app.set('dramble:session:x', 'y'), 'OK');
    } finally {
      app.disconnect();
      manager.disconnect();
    }
  });

  it("the Secret's ACL file is exactly Dramble's rules with the Secret's passwords, and so is k8s/README.md's", () => {
    const passwords = { operator: secret['redis-password']!, app: secret['redis-app-password']!, manager: secret['redis-manager-password']! };
    assert.equal(secret['redis-users.acl'], redisAclFile(passwords));
    assert.equal(decodeURIComponent(new URL(secret['app-redis-url']!).password), passwords.app);
    assert.equal(decodeURIComponent(new URL(secret['db-manager-redis-url']!).password), passwords.manager);
    const readme = readFileSync(join(root, 'k8s/README.md'), 'utf8');
    const heredoc = /cat > redis-users\.acl <<EOF\n([\s\S]*?)EOF\n/.exec(readme)?.[1];
    assert.equal(heredoc, redisAclFile({ operator: '$REDIS', app: '$REDIS_APP', manager: '$REDIS_MGR' }));
  });
});

describe('Redis in docker-compose.yml', () => {
  let r: Running | undefined;
  after(() => stop(r));

  it('starts with the compose command, and the URLs the services get authenticate', async () => {
    const compose = composeFile();
    const s = compose.services.redis as { command?: string[]; environment?: Record<string, string> };
    const [bin, ...args] = s.command!;
    assert.equal(bin, 'redis-server');
    const auth = composeEnv(s.environment).REDISCLI_AUTH!;
    r = await startWith(args, { REDISCLI_AUTH: auth });
    for (const name of ['app1', 'db-manager']) {
      const e = composeEnv(compose.services[name]!.environment);
      const url = new URL(e.APP_REDIS_URL ?? e.DBM_REDIS_URL!);
      assert.equal(url.hostname, 'redis');
      url.hostname = '127.0.0.1';
      url.port = String(r.port);
      const client = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await client.connect();
        assert.equal(await client.ping(), 'PONG', `${name} authenticates`);
      } finally {
        client.disconnect();
      }
    }
  });
});
