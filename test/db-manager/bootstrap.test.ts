// Bootstrap of fresh servers: one primary, the others replicating from it by GTID, read-only,
// semi-sync on; and a second run changes nothing at all (no statement, no new GTID).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrap, mariadb } from '@dramble/db-manager';
import { REPLICATION_PASSWORD, REPLICATION_USER, startReplicationCluster, type ReplicationCluster } from '../support/index.js';
import { gtidBinlogPos, idOf, replicaSource, startTestManager, syncFrom, topology, waitFor } from './support/helpers.js';
import { REPLICA_NET_TIMEOUT_SECONDS, type RecoveryContext } from '../../services/db-manager/src/recovery/context.js';

describe('bootstrap of fresh servers', () => {
  let cluster: ReplicationCluster;
  const steps: string[] = [];
  const ctx = (): RecoveryContext => ({
    creds: { user: 'root', password: '' },
    replication: { user: REPLICATION_USER, password: REPLICATION_PASSWORD },
    flavor: mariadb,
    connectTimeoutMs: 2000,
    statementTimeoutMs: 10_000,
    semiSync: true,
    step: (m) => steps.push(m),
  });

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 2, wired: false });
  });
  after(() => cluster?.destroy());

  it('wires the configured primary and its replicas by GTID, read-only, with semi-sync', async () => {
    const [a, b, c] = cluster.all as [typeof cluster.primary, typeof cluster.primary, typeof cluster.primary];
    const r = await bootstrap(ctx(), [a, b, c].map((i) => ({ id: idOf(i), host: i.host, port: i.port })), { preferredPrimary: idOf(b), semiSync: true });
    assert.equal(r.primaryId, idOf(b), 'the configured primary is chosen');
    assert.ok(r.changes.length > 0);
    await b.query('CREATE DATABASE boot; CREATE TABLE boot.t (id INT PRIMARY KEY); INSERT INTO boot.t VALUES (1)');
    for (const replica of [a, c]) {
      await waitFor(`${idOf(replica)} replicating from ${idOf(b)}`, async () => {
        const s = await replicaSource(replica);
        return s?.port === b.port && s.io === 'Yes' && s.sql === 'Yes' ? s : undefined;
      });
      // Promptly: a replica with the semi-sync source side on would stall its applier for 10 s per commit.
      await waitFor('the row to replicate', async () => ((await replica.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM boot.t'))[0]?.n === 1 ? true : undefined), 5000);
      const [v] = await replica.query<Array<Record<string, unknown>>>('SELECT @@read_only AS ro, @@rpl_semi_sync_slave_enabled AS semi, @@rpl_semi_sync_master_enabled AS source, @@slave_net_timeout AS net');
      assert.equal(Number(v?.['source']), 0, 'semi-sync source side off on replicas');
      assert.equal(Number(v?.['ro']), 1, 'replicas are read-only');
      assert.equal(Number(v?.['semi']), 1, 'semi-sync replica side on');
      assert.equal(Number(v?.['net']), REPLICA_NET_TIMEOUT_SECONDS);
    }
    const [p] = await b.query<Array<Record<string, unknown>>>("SELECT @@read_only AS ro, @@rpl_semi_sync_master_enabled AS semi, @@rpl_semi_sync_master_wait_point AS wp");
    assert.equal(Number(p?.['ro']), 0, 'the primary is writable');
    assert.equal(Number(p?.['semi']), 1);
    assert.equal(p?.['wp'], 'AFTER_SYNC');
    const status = await b.query<Array<{ Value: string }>>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'");
    await waitFor('two semi-sync clients', async () => Number((await b.query<Array<{ Value: string }>>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'"))[0]?.Value) === 2 || undefined, 10_000);
    assert.ok(status.length === 1);
  });

  it('is idempotent: a second run changes nothing and writes no GTID', async () => {
    await syncFrom(cluster.all[1]!, [cluster.all[0]!, cluster.all[2]!]);
    const before = await Promise.all(cluster.all.map(gtidBinlogPos));
    const r = await bootstrap(ctx(), cluster.all.map((i) => ({ id: idOf(i), host: i.host, port: i.port })), { preferredPrimary: idOf(cluster.all[1]!), semiSync: true });
    assert.deepEqual(r.changes, []);
    assert.equal(r.primaryId, idOf(cluster.all[1]!));
    assert.deepEqual(await Promise.all(cluster.all.map(gtidBinlogPos)), before);
  });

  it('finds the existing topology when a manager starts on it, even with another preferred primary', async () => {
    const m = await startTestManager(cluster.all, { primary: idOf(cluster.all[0]!), semiSync: true });
    try {
      const t = await waitFor('a healthy topology', async () => {
        const v = await topology(m);
        return v.primary && v.instances.every((i) => i.healthy) ? v : undefined;
      });
      assert.equal(t.primary, idOf(cluster.all[1]!));
      assert.deepEqual(t.instances.map((i) => i.role).sort(), ['primary', 'replica', 'replica']);
      const boot = m.manager.eventList().find((e) => e.type === 'bootstrap');
      assert.match(boot?.message ?? '', /nothing to change/);
    } finally {
      await m.close();
    }
  });
});
