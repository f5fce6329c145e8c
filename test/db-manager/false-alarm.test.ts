// No failover on a false alarm: the manager alone loses the primary (it probes through a TCP
// relay the test cuts) while the replicas keep replicating from it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningManager } from '@dramble/db-manager';
import { startReplicationCluster, type ReplicationCluster } from '../support/index.js';
import { idOf, startTestManager, topology, waitFor } from './support/helpers.js';
import { TcpRelay } from './support/relay.js';

describe('the manager alone cut off from the primary', () => {
  let cluster: ReplicationCluster;
  let relay: TcpRelay;
  let m: RunningManager;

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 2 });
    relay = new TcpRelay(cluster.primary);
    await relay.listen();
    m = await startTestManager([`127.0.0.1:${relay.port}`, ...cluster.replicas.map(idOf)], { failoverCooldownMs: 0 });
    await waitFor('a healthy topology', async () => {
      const v = await topology(m);
      // No problem left: the replicas ask for 1 s heartbeats (the manager sets it), so their silence means something.
      return v.primary === `127.0.0.1:${relay.port}` && v.problem === null && v.instances.every((i) => i.healthy) ? v : undefined;
    });
  });
  after(async () => {
    await m?.close();
    await relay?.close();
    await cluster?.destroy();
  });

  it('does not fail over while the replicas still receive from the primary', async () => {
    const primaryId = `127.0.0.1:${relay.port}`;
    relay.cutOff();
    // Well past the detection rule (3 failed probes over 1.5 s).
    const t = await waitFor('the manager to see the primary unreachable', async () => {
      const v = await topology(m);
      return v.problem?.code === 'PrimaryUnreachableFromManager' ? v : undefined;
    });
    assert.equal(t.primary, primaryId);
    await m.manager.waitTicks(6);
    const v = await topology(m);
    assert.equal(v.primary, primaryId, 'the primary is unchanged');
    assert.equal(v.problem?.code, 'PrimaryUnreachableFromManager');
    // Judged by what they received (heartbeat events), not by an IO thread that says Yes.
    assert.match(v.problem?.detail ?? '', /received [\d.]+ s ago/);
    assert.ok(v.instances.find((i) => i.id === primaryId)!.lastError, 'the probe error is shown');
    assert.equal(m.manager.eventList(500).filter((e) => e.type === 'failover').length, 0);
    for (const r of cluster.replicas) {
      const [ro] = await r.query<Array<{ ro: number }>>('SELECT @@read_only AS ro');
      assert.equal(Number(ro?.ro), 1, 'no replica was promoted');
    }
    // Writes on the real primary still flow to the replicas.
    await cluster.primary.query('CREATE DATABASE IF NOT EXISTS fa; CREATE TABLE fa.t (id INT PRIMARY KEY); INSERT INTO fa.t VALUES (1)');
    await cluster.sync();

    relay.restore();
    await waitFor('the topology to be healthy again', async () => {
      const x = await topology(m);
      return x.problem === null && x.primary === primaryId ? x : undefined;
    });
  });
});
