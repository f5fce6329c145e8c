// Healing back to full redundancy: the old primary hangs (SIGSTOP), the manager fails over, the old
// primary wakes (SIGCONT) holding a transaction nobody acknowledged (an errant GTID). The manager
// exports that transaction to a file, re-seeds the instance from the new primary and attaches it as
// a replica, so that when the new primary then dies there is a replica to fail over to.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningManager } from '@dramble/db-manager';
import { startReplicationCluster, type MariaDBInstance, type ReplicationCluster } from '../support/index.js';
import { idOf, post, replicaSource, startTestManager, syncFrom, topology, waitFor } from './support/helpers.js';

const FAST = { probeIntervalMs: 200, probeTimeoutMs: 300, failoverAfterProbes: 2, failoverMinMs: 400, failoverCooldownMs: 0 };

describe('re-seeding an old primary with errant transactions', () => {
  let cluster: ReplicationCluster;
  let m: RunningManager;
  const exportDir = mkdtempSync(join(tmpdir(), 'dbm-errant-'));

  before(async () => {
    // Two instances: after the failover the old primary is the only possible replica.
    cluster = await startReplicationCluster({ replicas: 1 });
    m = await startTestManager(cluster.all, { ...FAST, errantExportDir: exportDir });
    await waitFor('a healthy topology', async () => {
      const v = await topology(m);
      return v.primary === idOf(cluster.primary) && v.instances.every((i) => i.healthy) ? v : undefined;
    });
    await cluster.primary.query('CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(64)); INSERT INTO shop.orders VALUES (1, "first")');
    await cluster.sync();
  });
  after(async () => {
    await m?.close();
    for (const i of cluster?.all ?? []) if (i.pid) try { process.kill(i.pid, 'SIGCONT'); } catch { /* gone */ }
    await cluster?.destroy();
    rmSync(exportDir, { recursive: true, force: true });
  });

  const byId = (id: string): MariaDBInstance => cluster.all.find((i) => idOf(i) === id)!;

  it('hang, failover, wake with an errant transaction: exported, re-seeded, replicating', async () => {
    const old = cluster.primary;
    const replica = cluster.replicas[0]!;
    // A transaction committed on the old primary that its replica never receives (replication paused
    // on the replica first), as when the primary hangs right after a commit nobody acknowledged.
    await replica.query('STOP SLAVE');
    await old.query('INSERT INTO shop.orders VALUES (2, "errant")');
    const [errantRow] = await old.query<Array<{ p: string }>>('SELECT @@gtid_binlog_pos AS p');
    process.kill(old.pid, 'SIGSTOP');
    await replica.query('START SLAVE');
    const v = await waitFor('a failover to the replica', async () => {
      const t = await topology(m);
      return t.primary === idOf(replica) && t.instances.find((i) => i.id === t.primary)?.healthy ? t : undefined;
    }, 30_000);
    assert.equal(v.primary, idOf(replica));
    await replica.query('INSERT INTO shop.orders VALUES (3, "after failover")');
    process.kill(old.pid, 'SIGCONT');

    const reseeded = await waitFor('the re-seed event', () => m.manager.eventList(500).find((e) => e.type === 'reseed' && /re-seeded/.test(e.message)), 60_000).catch((err: Error) => {
      const events = m.manager.eventList(500).filter((e) => e.type !== 'problem' && e.type !== 'step').map((e) => `${e.type}: ${e.message}`);
      throw new Error(`${err.message}; events:\n${events.join('\n')}`);
    });
    assert.ok(reseeded);
    const exported = m.manager.eventList(500).find((e) => e.type === 'reseed' && /exported/.test(e.message));
    assert.ok(exported, 'the export is reported as an event');
    const files = readdirSync(exportDir);
    assert.equal(files.length, 1);
    const text = readFileSync(join(exportDir, files[0]!), 'utf8');
    assert.match(text, new RegExp(String(errantRow!.p).replace(/-/g, '\\-')), 'the file names the errant GTID');
    assert.match(text, /INSERT INTO shop\.orders VALUES \(2, "errant"\);/, `and holds its statement:\n${text}`);
    assert.doesNotMatch(text, /VALUES \(1, "first"\)/, 'and nothing the primary has');

    await waitFor('the old primary replicating from the new one', async () => {
      const s = await replicaSource(old);
      return s?.port === replica.port && s.io === 'Yes' && s.sql === 'Yes' ? s : undefined;
    });
    await replica.query('INSERT INTO shop.orders VALUES (4, "replicated")');
    await syncFrom(replica, [old]);
    const rows = await old.query<Array<{ id: number }>>('SELECT id FROM shop.orders ORDER BY id');
    assert.deepEqual(rows.map((r) => r.id), [1, 3, 4], 'the copy is the primary\'s data: the errant row is gone (it is in the export)');
    const t = await waitFor('full redundancy in the topology', async () => {
      const x = await topology(m);
      const o = x.instances.find((i) => i.id === idOf(old));
      return o?.role === 'replica' && o.healthy && o.quarantined === null && o.errantGtids.length === 0 ? x : undefined;
    });
    assert.equal(t.primary, idOf(replica));
  });

  it('fails over again when the new primary dies', async () => {
    const current = byId(m.manager.primaryId!);
    const other = cluster.all.find((i) => i !== current)!;
    await syncFrom(current, [other]);
    await current.kill();
    const t = await waitFor('a second failover', async () => {
      const x = await topology(m);
      return x.primary === idOf(other) && x.instances.find((i) => i.id === x.primary)?.healthy ? x : undefined;
    }, 30_000);
    assert.equal(t.primary, idOf(other));
    await other.query('INSERT INTO shop.orders VALUES (5, "writes are up")');
  });

  it('refuses POST /api/rebuild without the token, for an unknown instance, for the primary, and with a bad body', async () => {
    assert.equal((await post(m, '/api/rebuild', { instance: idOf(cluster.primary) }, null)).status, 401);
    assert.equal((await post(m, '/api/rebuild', { instance: 'nope:1' })).status, 404);
    assert.equal((await post(m, '/api/rebuild', { instance: m.manager.primaryId })).status, 409);
    assert.equal((await post(m, '/api/rebuild', { instance: 5 })).status, 400);
    assert.equal((await post(m, '/api/rebuild', { instance: 'a', extra: 1 })).status, 400);
  });
});
