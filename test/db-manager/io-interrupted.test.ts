// A replica whose source restarted while its IO thread was reconnecting stops with a network error
// (2003/2013) instead of retrying; the manager starts replication again once the source answers.
// --master-retry-count=1 makes the IO thread give up after one reconnect (the default retries for
// a day), so the stop happens every run instead of only when the restart hits the handshake.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningManager } from '@dramble/db-manager';
import { TRANSIENT_IO_ERRNOS } from '../../services/db-manager/src/analysis/io-errors.js';
import { startReplicationCluster, type ReplicationCluster } from '../support/index.js';
import { idOf, startTestManager, syncFrom, topology, waitFor } from './support/helpers.js';

async function ioState(i: { query<T>(sql: string): Promise<T> }): Promise<{ io: string; errno: number; error: string }> {
  const [r] = await i.query<Array<Record<string, unknown>>>('SHOW SLAVE STATUS');
  return { io: String(r?.['Slave_IO_Running']), errno: Number(r?.['Last_IO_Errno'] ?? 0), error: String(r?.['Last_IO_Error'] ?? '') };
}

describe('a replica whose source restarted while its IO thread reconnected', () => {
  let cluster: ReplicationCluster;
  let m: RunningManager;

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 1, args: ['--master-retry-count=1'] });
    // This test is about the replica: the primary being down for a few seconds must not fail over.
    m = await startTestManager([cluster.primary, cluster.replicas[0]!], { probeIntervalMs: 200, failoverMinMs: 600_000, failoverAfterProbes: 1000 });
    await waitFor('a healthy topology', async () => {
      const v = await topology(m);
      return v.primary === idOf(cluster.primary) && v.instances.every((i) => i.healthy) ? v : undefined;
    });
  });
  after(async () => {
    await m?.close();
    await cluster?.destroy();
  });

  it('is restarted by the manager and replicates again within seconds', async () => {
    const replica = cluster.replicas[0]!;
    await cluster.primary.stop();
    const stopped = await waitFor('the IO thread to stop on a network error', async () => {
      const s = await ioState(replica);
      return s.io === 'No' && s.errno !== 0 ? s : undefined;
    }, 30_000);
    assert.ok(TRANSIENT_IO_ERRNOS.has(stopped.errno), `stopped on ${stopped.errno}: ${stopped.error}`);
    const seen = await waitFor('the manager to see it as interrupted, not broken', async () => {
      const t = await topology(m);
      return t.problems.find((p) => p.instanceId === idOf(replica) && (p.code === 'ReplicaIoInterrupted' || p.code === 'ReplicationBroken'));
    });
    assert.equal(seen.code, 'ReplicaIoInterrupted');

    await cluster.primary.restart();
    const restartedAt = Date.now();
    await cluster.primary.query('CREATE DATABASE IF NOT EXISTS io_t; CREATE TABLE io_t.t (id INT PRIMARY KEY); INSERT INTO io_t.t VALUES (1)');
    await syncFrom(cluster.primary, [replica], 20_000);
    const took = Date.now() - restartedAt;
    assert.ok(took < 20_000, `replicating again ${took} ms after the primary came back`);
    const [row] = await replica.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM io_t.t');
    assert.equal(Number(row?.n), 1);
    assert.equal((await ioState(replica)).io, 'Yes');
    const { events } = (await (await fetch(`${m.adminUrl}/api/events?limit=200`)).json()) as { events: Array<{ type: string; message: string }> };
    assert.ok(events.some((e) => e.type === 'repair' && /restarted replication on .* after IO error/.test(e.message)), 'the restart is recorded as a repair');
  });
});
