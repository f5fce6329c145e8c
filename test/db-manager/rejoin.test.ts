// A returning old primary, re-seeding off: with errant GTIDs it stays fenced and the API names them; without, it
// is re-attached as a replica (here on request: auto-rejoin is off).
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { RunningManager } from '@dramble/db-manager';
import { startReplicationCluster, type MariaDBInstance, type ReplicationCluster } from '../support/index.js';
import { idOf, post, replicaSource, startTestManager, syncFrom, topology, waitFor } from './support/helpers.js';

describe('a returning old primary', () => {
  let cluster: ReplicationCluster;
  let m: RunningManager;
  const dir = mkdtempSync(join(tmpdir(), 'dbm-hook-'));
  const hookLog = join(dir, 'events.log');

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 2 });
    m = await startTestManager(cluster.all, { autoRejoin: false, reseedErrant: false, failoverCooldownMs: 0, hookCommand: `echo "$DRAMBLE_EVENT" >> '${hookLog}'` });
    await waitFor('a healthy topology', async () => {
      const v = await topology(m);
      return v.primary === idOf(cluster.primary) && v.instances.every((i) => i.healthy) ? v : undefined;
    });
    await cluster.primary.query('CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY); INSERT INTO r.t VALUES (1)');
    await cluster.sync();
  });
  after(async () => {
    await m?.close();
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function killAndFailOver(victim: MariaDBInstance): Promise<MariaDBInstance> {
    await victim.kill();
    const v = await waitFor('a failover', async () => {
      const t = await topology(m);
      return t.primary !== idOf(victim) && t.instances.find((i) => i.id === t.primary)?.healthy ? t : undefined;
    });
    await victim.restart();
    await waitFor(`${idOf(victim)} back and fenced`, async () => {
      const t = await topology(m);
      const o = t.instances.find((i) => i.id === idOf(victim));
      return o?.reachable && o.readOnly === true && o.role === 'fenced' ? o : undefined;
    });
    return cluster.all.find((i) => idOf(i) === v.primary)!;
  }

  it('stays fenced with errant GTIDs, and the API names them', async () => {
    const old = cluster.primary;
    const primary = await killAndFailOver(old);
    // A write that only the old primary has (root ignores read_only): an errant transaction.
    await old.query('INSERT INTO r.t VALUES (99)');
    const [sid] = await old.query<Array<{ s: number }>>('SELECT @@server_id AS s');
    const r = await post(m, `/api/instances/${encodeURIComponent(idOf(old))}/rejoin`);
    assert.equal(r.status, 409);
    assert.match(String(r.body['error']), new RegExp(`0-${sid!.s}-\\d+`));
    assert.ok(Array.isArray(r.body['errantGtids']) && (r.body['errantGtids'] as string[]).length > 0);
    const o = (await topology(m)).instances.find((i) => i.id === idOf(old))!;
    assert.equal(o.role, 'fenced');
    assert.deepEqual(o.errantGtids, r.body['errantGtids']);
    assert.equal(await replicaSource(old), null, 'not attached');
    await waitFor('the errant GTID count in /metrics', async () => {
      const metrics = await (await fetch(`${m.adminUrl}/metrics`)).text();
      return new RegExp(`dramble_db_instance_errant_gtids\\{[^}]*instance="${idOf(old)}"[^}]*\\} [1-9]`).test(metrics) || undefined;
    });
    assert.notEqual(idOf(primary), idOf(old));
    await waitFor('the hook command to run for the failover', () => /failover/.test(readFileSync(hookLog, 'utf8')) || undefined, 10_000);
  });

  it('rejoins as a replica when it has none', async () => {
    const current = cluster.all.find((i) => idOf(i) === m.manager.primaryId)!;
    const other = cluster.replicas.find((i) => i !== current)!;
    await syncFrom(current, [other]);
    const next = await killAndFailOver(current);
    assert.equal(next, other);
    const r = await post(m, `/api/instances/${encodeURIComponent(idOf(current))}/rejoin`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitFor('it replicates from the new primary', async () => {
      const s = await replicaSource(current);
      return s?.port === next.port && s.io === 'Yes' && s.sql === 'Yes' ? s : undefined;
    });
    await next.query('INSERT INTO r.t VALUES (2)');
    await syncFrom(next, [current]);
    const rows = await current.query<Array<{ id: number }>>('SELECT id FROM r.t ORDER BY id');
    assert.deepEqual(rows.map((x) => x.id), [1, 2]);
    await waitFor('role replica', async () => (await topology(m)).instances.find((i) => i.id === idOf(current))?.role === 'replica' || undefined);
  });
});
