// A primary that hangs (SIGSTOP: an SD-card stall, under-voltage) while clients write to it: its
// TCP connections stay open and the replicas' IO threads keep saying "Yes". The manager must still
// fail over within seconds (the replicas received nothing), lose no acknowledged write, and fence the
// old primary the moment it wakes (SIGCONT), before it can acknowledge anything.
// Takes ~25 s: the primary is stopped for 12 s on purpose (longer than detection plus failover).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { RunningManager } from '@dramble/db-manager';
import { startReplicationCluster, type MariaDBInstance, type ReplicationCluster } from '../support/index.js';
import { idOf, replicaSource, startTestManager, syncFrom, topology, waitFor } from './support/helpers.js';
import { APP_PASSWORD, APP_SETUP_SQL, APP_USER, missingWrites, Writer } from './support/writer.js';

const STOP_MS = 12_000;

describe('failover when the primary hangs under write load', () => {
  let cluster: ReplicationCluster;
  let m: RunningManager;
  let writer: Writer;
  let oldPrimary: MariaDBInstance;
  let stopped = false;

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 2, wired: false });
    // Default settings: semi-sync on, 1 s probes, 2 s replica silence.
    m = await startTestManager(cluster.all);
    await waitFor('a healthy topology with semi-sync waiting', async () => {
      const v = await topology(m);
      const p = v.instances.find((i) => i.id === v.primary);
      return v.primary === idOf(cluster.primary) && v.problem === null && v.instances.every((i) => i.healthy) && p?.semiSync?.sourceEnabled ? v : undefined;
    });
    await cluster.primary.query(APP_SETUP_SQL.join('; '));
    await syncFrom(cluster.primary, cluster.replicas);
  });
  after(async () => {
    if (stopped) process.kill(oldPrimary.pid, 'SIGCONT');
    await writer?.stop();
    await m?.close();
    await cluster?.destroy();
  });

  it('promotes a replica within seconds, loses no acknowledged write and fences the old primary when it wakes', async () => {
    oldPrimary = cluster.primary;
    writer = new Writer(async () => {
      const v = m.manager.view();
      return v.instances.find((i) => i.id === v.primary) ?? null;
    }, 20, { followMoves: true });
    writer.start();
    await waitFor('100 acknowledged writes', () => writer.acked.length >= 100 || undefined);

    process.kill(oldPrimary.pid, 'SIGSTOP');
    stopped = true;
    const stoppedAt = Date.now();
    const ackedBeforeStop = writer.acked.length;
    const firstAck = await waitFor('a write accepted by a new primary', () => writer.firstAckAfter(stoppedAt), STOP_MS, 20);
    const outage = firstAck - stoppedAt;
    const v = m.manager.view();
    assert.notEqual(v.primary, idOf(oldPrimary), 'another instance is the primary');
    // Goal: about 3 s (2 s of replica silence, 3 probes); 6 s leaves room for a loaded machine.
    assert.ok(outage < 6000, `writes were refused for ${outage} ms after the primary hung`);
    const failover = m.manager.eventList(500).find((e) => e.type === 'failover');
    assert.ok(failover, 'a failover event is recorded');
    console.log(`# hung primary: writes accepted again after ${outage} ms (failover ${String(failover.data?.['durationMs'])} ms, detected after ${String(failover.data?.['detectedAfterMs'])} ms)`);

    // The rest of the 12 s stop: writes go on against the new primary.
    await waitFor('the end of the stop', () => Date.now() - stoppedAt >= STOP_MS || undefined, STOP_MS + 1000, 50);
    process.kill(oldPrimary.pid, 'SIGCONT');
    stopped = false;
    const wokeAt = Date.now();
    await waitFor('the woken old primary to be read-only', async () => {
      const [row] = await oldPrimary.query<Array<{ ro: number }>>('SELECT @@read_only AS ro');
      return Number(row?.ro) === 1 || undefined;
    }, 10_000, 50);
    const fencedAfter = Date.now() - wokeAt;
    assert.ok(fencedAfter < 2000, `the old primary became read-only ${fencedAfter} ms after it woke`);

    // It acknowledges nothing: a client write is refused (read_only) or never answered.
    const app = await mysql.createConnection({ host: oldPrimary.host, port: oldPrimary.port, user: APP_USER, password: APP_PASSWORD, connectTimeout: 2000 });
    app.on('error', () => undefined);
    const attempt = await app.query({ sql: 'INSERT INTO app.writes (id, at) VALUES (?, ?)', values: [-1, Date.now()], timeout: 3000 }).then(
      () => 'acknowledged',
      (err: { code?: string }) => String(err.code),
    );
    app.destroy();
    assert.notEqual(attempt, 'acknowledged', 'the old primary refuses writes');

    await waitFor('100 more writes', () => writer.acked.length >= ackedBeforeStop + 200 || undefined);
    await writer.stop();
    const newPrimary = cluster.all.find((i) => idOf(i) === m.manager.view().primary)!;
    assert.deepEqual(await missingWrites(newPrimary, writer.acked), [], 'every acknowledged write is on the new primary');

    const other = cluster.replicas.find((r) => r !== newPrimary)!;
    await waitFor('the other replica to follow the new primary', async () => {
      const s = await replicaSource(other);
      return s?.port === newPrimary.port && s.io === 'Yes' && s.sql === 'Yes' ? s : undefined;
    });

    // The old primary is reported: fenced (with its errant GTIDs, if the writes it took while hung
    // committed locally) or, holding nothing extra, re-attached read-only. Never writable.
    const fence = await waitFor('a fence event for the old primary', () => m.manager.eventList(500).find((e) => e.type === 'fence' && e.data?.['instance'] === idOf(oldPrimary)));
    const view = await waitFor('the old primary reported as fenced or replica', async () => {
      const t = await topology(m);
      const o = t.instances.find((i) => i.id === idOf(oldPrimary));
      return o && o.reachable && o.readOnly === true && (o.role === 'replica' || (o.role === 'fenced' && o.quarantined !== null)) ? o : undefined;
    });
    const errant = (fence.data?.['errantGtids'] as string[] | undefined) ?? [];
    if (errant.length > 0) assert.deepEqual(view.role, 'fenced', 'an instance with errant GTIDs stays fenced');
    if (view.role === 'fenced') assert.ok(view.errantGtids.length > 0 || view.quarantined, 'the API names why it is fenced');
    console.log(`# old primary fenced ${fencedAfter} ms after waking; errant GTIDs: ${errant.join(',') || 'none'}; now ${view.role}`);
    const [ro] = await oldPrimary.query<Array<{ ro: number }>>('SELECT @@read_only AS ro');
    assert.equal(Number(ro?.ro), 1, 'it is still read-only');
  });
});
