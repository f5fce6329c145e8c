// Semi-sync by default: the primary waits for a replica's ack whenever one can give it, never gives up
// on its own (timeout "forever"), and the manager switches waiting off, as an event and a metric,
// when the last replica is gone, so writes go on; and on again once a replica is back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningManager } from '@dramble/db-manager';
import { startReplicationCluster, type MariaDBInstance, type ReplicationCluster } from '../support/index.js';
import { idOf, startTestManager, syncFrom, topology, waitFor } from './support/helpers.js';
import { APP_SETUP_SQL, missingWrites, Writer } from './support/writer.js';

async function semiSyncStatus(i: MariaDBInstance): Promise<{ enabled: boolean; timeout: number; yesTx: number }> {
  const [v] = await i.query<Array<{ e: number; t: string }>>('SELECT @@rpl_semi_sync_master_enabled AS e, @@rpl_semi_sync_master_timeout AS t');
  const rows = await i.query<Array<{ Variable_name: string; Value: string }>>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_yes_tx'");
  return { enabled: Number(v?.e) === 1, timeout: Number(v?.t), yesTx: Number(rows[0]?.Value ?? 0) };
}

describe('semi-sync waiting follows the healthy replicas', () => {
  let cluster: ReplicationCluster;
  let m: RunningManager;
  let writer: Writer;

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 1, wired: false });
    m = await startTestManager(cluster.all); // defaults: semi-sync on
    await waitFor('a healthy topology', async () => {
      const v = await topology(m);
      return v.primary === idOf(cluster.primary) && v.problem === null && v.instances.every((i) => i.healthy) ? v : undefined;
    });
    await cluster.primary.query(APP_SETUP_SQL.join('; '));
    await syncFrom(cluster.primary, cluster.replicas);
  });
  after(async () => {
    await writer?.stop();
    await m?.close();
    await cluster?.destroy();
  });

  it('is on by default with a timeout the primary never reaches, and every commit is acknowledged by the replica', async () => {
    const s0 = await semiSyncStatus(cluster.primary);
    assert.equal(s0.enabled, true, 'the primary waits for acks');
    assert.ok(s0.timeout >= 4_294_967_295, `rpl_semi_sync_master_timeout is ${s0.timeout} ms`);
    await cluster.primary.query('INSERT INTO app.writes (id, at) VALUES (0, 0)');
    assert.ok((await semiSyncStatus(cluster.primary)).yesTx > s0.yesTx, 'the commit waited for and got a replica ack');
  });

  it('turns waiting off when the only replica dies, so writes continue, and says so', async () => {
    const [replica] = cluster.replicas as [MariaDBInstance];
    writer = new Writer(async () => cluster.primary);
    writer.start();
    await waitFor('50 acknowledged writes', () => writer.acked.length >= 50 || undefined);

    await replica.kill();
    const killedAt = Date.now();
    const off = await waitFor('a semi-sync event: waiting off', () => m.manager.eventList(500).find((e) => e.type === 'semi-sync' && e.data?.['waiting'] === false));
    assert.match(off.message, /waiting off/);
    assert.equal(off.data?.['instance'], idOf(cluster.primary));
    const firstAck = await waitFor('a write acknowledged after the replica died', () => writer.firstAckAfter(killedAt), 15_000, 20);
    console.log(`# semi-sync: writes blocked ${firstAck - killedAt} ms after the only replica died`);
    assert.equal((await semiSyncStatus(cluster.primary)).enabled, false, 'the primary no longer waits');
    const metrics = await (await fetch(`${m.adminUrl}/metrics`)).text();
    assert.match(metrics, /dramble_db_semi_sync_waiting(\{[^}]*\})? 0/);
    assert.match(metrics, /dramble_db_semi_sync_changes_total\{[^}]*waiting="off"[^}]*\} 1/);

    // The replica comes back (a plain restart loses the SET GLOBAL replica side): the manager turns it
    // on there, then waiting on the primary.
    await replica.restart();
    const on = await waitFor('a semi-sync event: waiting on', () => m.manager.eventList(500).find((e) => e.type === 'semi-sync' && e.data?.['waiting'] === true && e.id > off.id), 30_000);
    assert.match(on.message, /waiting on/);
    const s1 = await semiSyncStatus(cluster.primary);
    assert.equal(s1.enabled, true);
    await waitFor('more writes, now acknowledged by the replica', async () => (await semiSyncStatus(cluster.primary)).yesTx > s1.yesTx || undefined);
    await writer.stop();
    assert.deepEqual(await missingWrites(cluster.primary, writer.acked), []);
    const after = await (await fetch(`${m.adminUrl}/metrics`)).text();
    assert.match(after, /dramble_db_semi_sync_waiting(\{[^}]*\})? 1/);
    assert.match(after, /dramble_db_semi_sync_changes_total\{[^}]*waiting="on"[^}]*\} 1/);
  });
});
