// Redis as the manifests and docker-compose.yml run it, on the real redis-server: the arguments are
// accepted, a password is required, the probes' `redis-cli ping` gets in with REDISCLI_AUTH, and the
// URL the app and the db-manager get (from secret.example.yaml) authenticates.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, REDIS_SERVER, spawnTracked, type Spawned } from '../support/index.js';
import { builds, composeEnv, composeFile, exampleSecret, resolveEnv, workloads } from './support.js';

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

describe('Redis in Kubernetes', () => {
  const objs = builds().get('pi')!;
  const redis = workloads(objs).find((w) => w.name === 'redis')!;
  const c = redis.pod.containers[0]! as (typeof redis.pod.containers)[number] & { args: string[] };
  const env = resolveEnv(c, objs).values;
  let r: Running | undefined;
  after(() => stop(r));

  it('starts with the manifest arguments and answers the probe command with REDISCLI_AUTH', async () => {
    r = await startWith(expand(c.args, env), { REDISCLI_AUTH: env.REDISCLI_AUTH! });
    assert.deepEqual(c.readinessProbe?.exec?.command, ['redis-cli', 'ping']);
    assert.equal(await cli(r.port, ['config', 'get', 'maxmemory-policy'], { REDISCLI_AUTH: env.REDISCLI_AUTH! }), 'maxmemory-policy\nnoeviction', 'a full Redis refuses writes, never evicts sessions or limiter counters');
    assert.equal(await cli(r.port, ['config', 'get', 'save'], { REDISCLI_AUTH: env.REDISCLI_AUTH! }), 'save', 'no snapshots');
  });

  it('refuses clients without the password', async () => {
    assert.match(await cli(r!.port, ['ping'], {}), /NOAUTH/);
  });

  it("the app's and the db-manager's redis-url from the Secret authenticates", async () => {
    const url = new URL(exampleSecret().data['redis-url']!);
    url.hostname = '127.0.0.1';
    url.port = String(r!.port);
    const client = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      assert.equal(await client.ping(), 'PONG');
    } finally {
      client.disconnect();
    }
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
