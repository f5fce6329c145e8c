// Two real dramble-db-manager processes on one cluster with a Redis lock: exactly one acts (writes
// the topology, answers switchover); SIGKILL it and the other takes over within the lock TTL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { TOPOLOGY_KEY, type TopologyView } from '@dramble/db-manager';
import { freePort, REPLICATION_PASSWORD, REPLICATION_USER, spawnTracked, startRedis, startReplicationCluster, type ReplicationCluster, type Spawned } from '../support/index.js';
import { idOf, TOKEN, waitFor } from './support/helpers.js';

interface Proc {
  name: string;
  url: string;
  spawned: Spawned;
  output: string[];
}

describe('two managers at once', () => {
  let cluster: ReplicationCluster;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: Redis;
  const procs: Proc[] = [];

  async function spawnManager(name: string): Promise<Proc> {
    const port = await freePort();
    const args = [
      '--conditions=dramble-src', '--import', 'tsx', 'services/db-manager/src/main.ts',
      '--instances', cluster.all.map(idOf).join(','),
      '--replication-user', REPLICATION_USER,
      '--admin', `127.0.0.1:${port}`,
      '--redis-url', redis.url,
      '--election', 'redis', '--election-ttl-ms', '3000', '--identity', name,
      '--log-level', 'info',
    ];
    const spawned = spawnTracked(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DBM_ADMIN_TOKEN: TOKEN, DBM_REPLICATION_PASSWORD: REPLICATION_PASSWORD } });
    const p: Proc = { name, url: `http://127.0.0.1:${port}`, spawned, output: [] };
    spawned.child.stdout?.on('data', (d: Buffer) => p.output.push(d.toString()));
    spawned.child.stderr?.on('data', (d: Buffer) => p.output.push(d.toString()));
    procs.push(p);
    await waitFor(`${name} to answer /healthz`, async () => (await fetch(`${p.url}/healthz`)).ok || undefined, 30_000, 200);
    return p;
  }

  const view = async (p: Proc): Promise<TopologyView> => (await (await fetch(`${p.url}/api/topology`)).json()) as TopologyView;

  before(async () => {
    [cluster, redis] = await Promise.all([startReplicationCluster({ replicas: 2 }), startRedis()]);
    client = new Redis(redis.url);
  });
  after(async () => {
    for (const p of procs) p.spawned.child.kill('SIGKILL');
    client?.disconnect();
    await Promise.all([cluster?.destroy(), redis?.destroy()]);
  });

  it('lets exactly one act, and the other take over when it is killed', async () => {
    const a = await spawnManager('manager-a');
    await waitFor('manager-a to lead', async () => (await view(a)).leader || undefined, 20_000);
    const b = await spawnManager('manager-b');
    await waitFor('manager-b to probe', async () => (await view(b)).instances.some((i) => i.reachable) || undefined, 20_000);
    assert.equal((await view(b)).leader, false, 'only one leader');
    assert.equal(await client.get('dramble:db-manager:leader'), 'manager-a');
    const refused = await fetch(`${b.url}/api/switchover`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(refused.status, 409, 'the standby does not act');
    // The leader publishes on its first probe round after bootstrap, which can be after manager-b is up.
    const before = await waitFor('manager-a to publish', async () => {
      const t = JSON.parse((await client.get(TOPOLOGY_KEY)) ?? '{}') as { epoch?: number; primary?: { id: string } };
      return t.epoch && t.primary ? (t as { epoch: number; primary: { id: string } }) : undefined;
    });
    assert.equal(before.primary.id, idOf(cluster.primary));

    const killedAt = Date.now();
    a.spawned.child.kill('SIGKILL');
    await a.spawned.exited;
    await waitFor('manager-b to take over', async () => (await view(b)).leader || undefined, 15_000);
    const tookOver = Date.now() - killedAt;
    assert.ok(tookOver < 8000, `took over after ${tookOver} ms (lock TTL 3 s)`);
    const after = await waitFor('manager-b to publish', async () => {
      const t = JSON.parse((await client.get(TOPOLOGY_KEY)) ?? '{}') as { epoch: number; primary: { id: string } };
      return t.epoch > before.epoch ? t : undefined;
    });
    assert.equal(after.primary.id, idOf(cluster.primary), 'same primary, larger epoch');

    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    assert.match(metrics, /dramble_db_is_leader\{[^}]*\} 1/);
    b.spawned.child.kill('SIGTERM');
    assert.equal(await b.spawned.exited, 0, `manager-b exits cleanly on SIGTERM:\n${b.output.join('').slice(-2000)}`);
  });
});
