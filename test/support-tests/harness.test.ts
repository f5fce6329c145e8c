// The real-server harness: replication between MariaDB instances it starts, Redis, and cleanup.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { isAlive, startRedis, startReplicationCluster, spawnTracked } from '../support/index.js';

describe('test harness', () => {
  it('starts a primary and a replica: a row written on the primary is read on the replica', async () => {
    const cluster = await startReplicationCluster({ replicas: 1 });
    after(() => cluster.destroy());
    await cluster.primary.query('CREATE DATABASE h; CREATE TABLE h.t (id INT PRIMARY KEY, v VARCHAR(20))');
    await cluster.primary.query('INSERT INTO h.t VALUES (?, ?)', [1, 'from primary']);
    await cluster.sync();
    const rows = await cluster.replicas[0]!.query<Array<{ v: string }>>('SELECT v FROM h.t WHERE id = 1');
    assert.deepEqual(rows.map((r) => r.v), ['from primary']);
    const [ro] = await cluster.replicas[0]!.query<Array<{ ro: number; sid: number }>>('SELECT @@read_only AS ro, @@server_id AS sid');
    assert.equal(ro!.ro, 1);
    assert.notEqual(ro!.sid, cluster.primary.serverId);
    const [gtid] = await cluster.primary.query<Array<{ strict: number; binlog: number }>>('SELECT @@gtid_strict_mode AS strict, @@log_bin AS `binlog`');
    assert.deepEqual(gtid, { strict: 1, binlog: 1 });
  });

  it('restarts a killed instance on the same port with its data', async () => {
    const cluster = await startReplicationCluster({ replicas: 0 });
    after(() => cluster.destroy());
    await cluster.primary.query('CREATE DATABASE k; CREATE TABLE k.t (id INT PRIMARY KEY); INSERT INTO k.t VALUES (42)');
    const oldPid = cluster.primary.pid;
    await cluster.primary.kill();
    assert.equal(isAlive(oldPid), false);
    await assert.rejects(cluster.primary.query('SELECT 1'));
    await cluster.primary.restart();
    const rows = await cluster.primary.query<Array<{ id: number }>>('SELECT id FROM k.t');
    assert.deepEqual(rows.map((r) => r.id), [42]);
  });

  it('runs Redis: a value set is read back', async () => {
    const redis = await startRedis();
    after(() => redis.destroy());
    const client = new Redis(redis.port, redis.host);
    after(() => client.quit());
    await client.set('dramble:test', 'round-trip');
    assert.equal(await client.get('dramble:test'), 'round-trip');
  });

  it('leaves no server behind, even when the test process dies from an error', async () => {
    // A child test process starts MariaDB and Redis, prints their pids, then throws.
    const script = `
      import { startMariaDB, startRedis } from './test/support/index.ts';
      const db = await startMariaDB();
      const r = await startRedis();
      console.log(JSON.stringify({ pids: [db.pid, r.pid] }));
      throw new Error('test failed on purpose');
    `;
    const res = spawnSync(process.execPath, ['--conditions=dramble-src', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(res.status, 0, 'child should have failed');
    const line = res.stdout.split('\n').find((l) => l.startsWith('{"pids"'));
    assert.ok(line, `child printed no pids: ${res.stderr}`);
    const { pids } = JSON.parse(line) as { pids: number[] };
    assert.equal(pids.length, 2);
    const deadline = Date.now() + 5000;
    while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(pids.filter(isAlive), [], 'servers outlived their test process');
  });

  it('tracks spawned processes until they exit', async () => {
    const s = spawnTracked('sleep', ['30']);
    assert.ok(isAlive(s.child.pid!));
    s.child.kill('SIGKILL');
    assert.equal(await s.exited, 'SIGKILL');
    assert.equal(isAlive(s.child.pid!), false);
  });
});
