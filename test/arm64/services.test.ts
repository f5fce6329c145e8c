// linux/arm64, run for real: the three services under the arm64 Node build the images use,
// emulated by qemu-user, against real MariaDB and Redis, with each image's heap settings
// (NODE_OPTIONS, MALLOC_*). Emulation is slow (a start takes 10-40 s), hence the long timeouts;
// the file takes 1-3 minutes (90 s quiet, 190 s at load average 15). Skips, loudly, when qemu-aarch64 is not installed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readlinkSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { freePort, spawnTracked, startMariaDB, startRedis, startReplicationCluster, REPLICATION_PASSWORD, REPLICATION_USER, type MariaDBInstance, type RedisInstance, type ReplicationCluster, type Spawned } from '../support/index.js';
import { until } from '../e2e/helpers.js';
import { QEMU, SYSROOT, arm64Node, compiledService, emulatedArch, imageEnv, imageNodeVersion, rssMB, type Service } from './support.js';

const skip = QEMU ? false : 'SKIPPED: qemu-aarch64 is not installed (apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross); the linux/arm64 services test needs it';
if (skip) console.error(skip);
// DRAMBLE_ARM64_NATIVE=1 runs the same scenario on the host's node, for bench/README.md's comparison.
const NATIVE = process.env['DRAMBLE_ARM64_NATIVE'] === '1';

interface Emulated {
  spawned: Spawned;
  output: () => string;
}

describe('the services under emulated linux/arm64 Node', { skip, timeout: 300_000, concurrency: false }, () => {
  let node: string;
  const running: Emulated[] = [];
  const memory: string[] = [];
  const compiled: string[] = [];

  /**
   * Records the emulator's RSS and the guest V8 heap (from the service's own /metrics) and checks
   * that the image's --max-semi-space-size holds on arm64: V8 commits at most two semi-spaces
   * (plus a page) for the young generation, the 30-90 MB the Dockerfiles' comments warn about.
   */
  async function recordMemory(service: Service, pid: number, adminUrl: string): Promise<void> {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    const metric = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN) / 1048576;
    const heap = metric(/^dramble_nodejs_heap_size_total_bytes(?:\{[^}]*\})? (\S+)/m);
    const young = metric(/^dramble_nodejs_heap_space_size_total_bytes\{space="new"[^}]*\} (\S+)/m);
    const semi = Number(/--max-semi-space-size=(\d+)/.exec(imageEnv(service)['NODE_OPTIONS'] ?? '')?.[1]);
    assert.ok(semi > 0, `the ${service} image sets --max-semi-space-size`);
    assert.ok(young <= 2 * semi + 1, `${service}: young generation ${young.toFixed(1)} MB within 2 x ${semi} MB semi-spaces`);
    memory.push(`${service} RSS ${rssMB(pid)} MB (V8 heap ${heap.toFixed(1)} MB, young generation ${young.toFixed(1)} MB)`);
  }

  /** Secrets go in `secrets` (the environment), never in argv. */
  async function emulate(service: Service, args: string[], secrets: Record<string, string> = {}): Promise<Emulated> {
    const entry = await compiledService(service);
    compiled.push(entry);
    const [command, prefix] = NATIVE ? [process.execPath, []] : [QEMU!, ['-L', SYSROOT, node]];
    const spawned = spawnTracked(command, [...prefix, entry, ...args], {
      env: { PATH: process.env['PATH'], ...imageEnv(service), ...secrets },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    spawned.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    spawned.child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const e = { spawned, output: () => output };
    running.push(e);
    return e;
  }
  async function ready(e: Emulated, adminUrl: string, what: string): Promise<void> {
    let exited = false;
    void e.spawned.exited.then(() => (exited = true));
    await until(`${what} to answer /readyz under emulation`, 120_000, async () => {
      if (exited) throw Object.assign(new Error(`${what} exited:\n${e.output()}`), { fatal: true });
      return (await fetch(`${adminUrl}/readyz`)).status === 200;
    }, 500).catch((err: Error) => {
      throw new Error(`${err.message}\n--- output ---\n${e.output().slice(-3000)}`);
    });
    // The process is the emulator running the arm64 binary, not the host's node.
    if (!NATIVE) assert.match(readlinkSync(`/proc/${e.spawned.child.pid}/exe`), /qemu-aarch64/);
  }
  const port = async () => freePort();

  before(() => {
    if (NATIVE) return;
    node = arm64Node();
    assert.equal(emulatedArch(node), `arm64 v${imageNodeVersion()}`);
  });
  after(async () => {
    for (const e of running) e.spawned.child.kill('SIGKILL');
    await Promise.all(running.map((e) => e.spawned.exited));
    for (const f of compiled) rmSync(f, { force: true });
    if (memory.length > 0) console.error(`${NATIVE ? 'native x86-64' : 'under qemu-aarch64 (not a Pi figure)'}: ${memory.join('; ')}`);
  });

  describe('the balancer proxies to a backend', () => {
    let backend: Server;
    after(() => backend?.close());

    it('forwards a request, names the backend that served it, and reports it healthy', async () => {
      backend = createServer((req, res) => {
        res.setHeader('content-type', 'text/plain');
        res.end(`hello from the backend: ${req.method} ${req.url}`);
      });
      await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
      const origin = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
      const [listen, admin] = [await port(), await port()];
      const lb = await emulate('balancer', ['--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`, '--backend', `${origin}#pi-1`, '--access-log', 'false']);
      await ready(lb, `http://127.0.0.1:${admin}`, 'the balancer');
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`http://127.0.0.1:${listen}/page/${i}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('x-served-by'), 'pi-1');
        assert.equal(await res.text(), `hello from the backend: GET /page/${i}`);
      }
      const backends = (await (await fetch(`http://127.0.0.1:${admin}/api/backends`)).json()) as unknown;
      assert.match(JSON.stringify(backends), /pi-1/);
      await recordMemory('balancer', lb.spawned.child.pid!, `http://127.0.0.1:${admin}`);
    });
  });

  describe('the app serves a page from real MariaDB and Redis', () => {
    let mysql: MariaDBInstance;
    let redis: RedisInstance;
    before(async () => {
      [mysql, redis] = await Promise.all([startMariaDB(), startRedis()]);
    });
    after(async () => {
      await Promise.all([mysql?.destroy(), redis?.destroy()]);
    });

    it('migrates the database, serves the home page and stores its page cache in Redis', async () => {
      const [listen, admin] = [await port(), await port()];
      const app = await emulate('app', [
        '--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`,
        '--mysql-url', `mysql://root@127.0.0.1:${mysql.port}/arm64`, '--redis-url', redis.url, '--instance-name', 'pi-2',
      ]);
      await ready(app, `http://127.0.0.1:${admin}`, 'the app');
      const home = await fetch(`http://127.0.0.1:${listen}/`);
      assert.equal(home.status, 200);
      assert.equal(home.headers.get('x-app-instance'), 'pi-2');
      assert.match(await home.text(), /What is the Dramble\?/, 'the seeded post, read from MariaDB');
      const tables = await mysql.query<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'arm64'");
      assert.ok(Number(tables[0]?.n) > 0, 'the app created its tables');
      const client = new Redis(redis.url);
      try {
        const keys = await until('the app to write to Redis', 30_000, async () => {
          await fetch(`http://127.0.0.1:${listen}/`);
          const k = await client.keys('*');
          return k.length > 0 ? k : undefined;
        }, 500);
        assert.ok(keys.length > 0, `keys in Redis: ${keys.join(', ')}`);
      } finally {
        client.disconnect();
      }
      await recordMemory('app', app.spawned.child.pid!, `http://127.0.0.1:${admin}`);
    });
  });

  describe('the db-manager probes two MariaDB instances and publishes a topology', () => {
    let cluster: ReplicationCluster;
    let redis: RedisInstance;
    before(async () => {
      [cluster, redis] = await Promise.all([startReplicationCluster({ replicas: 1 }), startRedis()]);
    });
    after(async () => {
      await Promise.all([cluster?.destroy(), redis?.destroy()]);
    });

    it('publishes the primary and the replica with its lag under dramble:topology', async () => {
      const id = (i: { host: string; port: number }) => `${i.host}:${i.port}`;
      const replica = cluster.replicas[0]!;
      const admin = await port();
      const dbm = await emulate('db-manager', [
        '--instances', cluster.all.map(id).join(','), '--replication-user', REPLICATION_USER,
        '--admin', `127.0.0.1:${admin}`, '--redis-url', redis.url,
      ], { DBM_REPLICATION_PASSWORD: REPLICATION_PASSWORD });
      await ready(dbm, `http://127.0.0.1:${admin}`, 'the db-manager');
      const client = new Redis(redis.url);
      try {
        const t = await until('a topology in Redis', 60_000, async () => {
          const t = JSON.parse((await client.get('dramble:topology')) ?? '{}') as { epoch?: number; primary?: { id: string } | null; replicas?: Array<{ id: string; lagSeconds: number | null }> };
          return t.epoch && t.primary && t.replicas?.length ? t : undefined;
        }, 500);
        assert.equal(t.primary?.id, id(cluster.primary));
        assert.deepEqual(t.replicas?.map((r) => r.id), [id(replica)]);
        assert.equal(typeof t.replicas?.[0]?.lagSeconds, 'number', 'the replica was probed for lag');
      } finally {
        client.disconnect();
      }
      await recordMemory('db-manager', dbm.spawned.child.pid!, `http://127.0.0.1:${admin}`);
    });
  });
});
