// A replica broken by a conflicting write is reported with its error and is never promoted, by a
// switchover or by a failover.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningManager } from '@dramble/db-manager';
import { startReplicationCluster, type ReplicationCluster } from '../support/index.js';
import { idOf, post, startTestManager, topology, waitFor } from './support/helpers.js';

describe('a replica broken by a conflicting write', () => {
  let cluster: ReplicationCluster;
  let m: RunningManager;

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 2 });
    // Priority favours the replica we are about to break: it must still never be chosen.
    m = await startTestManager([cluster.primary, cluster.replicas[1]!, cluster.replicas[0]!], { failoverCooldownMs: 0 });
    await waitFor('a healthy topology', async () => {
      const v = await topology(m);
      return v.primary === idOf(cluster.primary) && v.instances.every((i) => i.healthy) ? v : undefined;
    });
  });
  after(async () => {
    await m?.close();
    await cluster?.destroy();
  });

  it('is reported with the replication error and refused as a switchover target', async () => {
    const broken = cluster.replicas[1]!;
    await cluster.primary.query('CREATE DATABASE c; CREATE TABLE c.t (id INT PRIMARY KEY)');
    await cluster.sync();
    // A person writes on the replica (root ignores read_only), then the primary writes the same key.
    await broken.query('INSERT INTO c.t VALUES (7)');
    await cluster.primary.query('INSERT INTO c.t VALUES (7)');
    const v = await waitFor('the broken replica to be reported', async () => {
      const t = await topology(m);
      return t.problems.some((p) => p.code === 'ReplicationBroken' && p.instanceId === idOf(broken)) ? t : undefined;
    });
    const p = v.problems.find((x) => x.code === 'ReplicationBroken')!;
    assert.match(p.detail, /SQL thread error \d+/);
    const inst = v.instances.find((i) => i.id === idOf(broken))!;
    assert.equal(inst.healthy, false);
    assert.ok(inst.replication?.lastSqlError);

    const r = await post(m, '/api/switchover', { target: idOf(broken) });
    assert.equal(r.status, 409);
    assert.match(String(r.body['error']), /SQL thread broken|errant/);
  });

  it('is never promoted when the primary dies', async () => {
    const broken = cluster.replicas[1]!;
    const good = cluster.replicas[0]!;
    await cluster.primary.kill();
    const v = await waitFor('a failover', async () => {
      const t = await topology(m);
      return t.primary !== idOf(cluster.primary) ? t : undefined;
    });
    assert.equal(v.primary, idOf(good));
    const [ro] = await broken.query<Array<{ ro: number }>>('SELECT @@read_only AS ro');
    assert.equal(Number(ro?.ro), 1, 'the broken replica stays read-only');
  });
});
