// A replica whose mariadbd restarts comes back at the 60 s default slave_net_timeout (bootstrap
// set 4 s with SET GLOBAL, which a restart forgets): the manager sets it again and reconnects the
// IO thread, so the replica notices a dead primary in seconds again, and replication goes on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningManager } from '@dramble/db-manager';
import { startReplicationCluster, type ReplicationCluster } from '../support/index.js';
import { idOf, startTestManager, syncFrom, topology, waitFor } from './support/helpers.js';

async function netTimeout(i: { query<T>(sql: string): Promise<T> }): Promise<number> {
  const [r] = await i.query<Array<{ v: number }>>('SELECT @@slave_net_timeout AS v');
  return Number(r?.v);
}

async function heartbeatPeriod(i: { query<T>(sql: string): Promise<T> }): Promise<number> {
  const [r] = await i.query<Array<{ Value: string }>>("SHOW GLOBAL STATUS LIKE 'Slave_heartbeat_period'");
  return Number(r?.Value);
}

describe('a replica whose mariadbd restarted', () => {
  let cluster: ReplicationCluster;
  let m: RunningManager;

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 1 });
    m = await startTestManager([cluster.primary, cluster.replicas[0]!], { probeIntervalMs: 200 });
    await waitFor('a healthy topology with the replica settings in place', async () => {
      const v = await topology(m);
      const ok = v.primary === idOf(cluster.primary) && v.instances.every((i) => i.healthy) && v.problems.length === 0;
      return ok && (await netTimeout(cluster.replicas[0]!)) === 4 && (await heartbeatPeriod(cluster.replicas[0]!)) === 1 ? v : undefined;
    });
  });
  after(async () => {
    await m?.close();
    await cluster?.destroy();
  });

  it('gets its net timeout back, and replicates', async () => {
    const replica = cluster.replicas[0]!;
    await replica.restart();
    const repaired = await waitFor('the manager to set the replica settings again', async () => {
      const { events } = (await (await fetch(`${m.adminUrl}/api/events?limit=200`)).json()) as { events: Array<{ type: string; message: string; data?: Record<string, unknown> }> };
      return events.find((e) => e.type === 'repair' && e.message.includes(idOf(replica)) && e.data?.['netTimeoutSeconds'] === 4);
    }, 20_000);
    assert.match(repaired.message, /net timeout 4 s/);
    await waitFor('slave_net_timeout 4 s and the IO thread connected', async () => {
      const [s] = await replica.query<Array<Record<string, unknown>>>('SHOW SLAVE STATUS');
      return (await netTimeout(replica)) === 4 && s?.['Slave_IO_Running'] === 'Yes';
    }, 20_000);
    assert.equal(await heartbeatPeriod(replica), 1, 'the heartbeat period survived or was set again');
    await cluster.primary.query('CREATE DATABASE IF NOT EXISTS rr; CREATE TABLE rr.t (id INT PRIMARY KEY); INSERT INTO rr.t VALUES (1)');
    await syncFrom(cluster.primary, [replica]);
    const v = await waitFor('no drift left', async () => {
      const t = await topology(m);
      return t.problems.some((p) => p.code === 'ReplicaSettingsDrift') ? undefined : t;
    });
    assert.ok(v.instances.find((i) => i.id === idOf(replica))?.healthy);
  });
});
