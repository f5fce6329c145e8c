// Planned switchover under write load: zero acknowledged writes lost, the unavailability is
// measured, the old primary follows the new one. Also the API's auth and validation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningManager } from '@dramble/db-manager';
import { startReplicationCluster, type ReplicationCluster } from '../support/index.js';
import { idOf, post, replicaSource, startTestManager, syncFrom, topology, waitFor, TOKEN } from './support/helpers.js';
import { APP_SETUP_SQL, missingWrites, Writer } from './support/writer.js';

describe('switchover on demand', () => {
  let cluster: ReplicationCluster;
  let m: RunningManager;

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 2, semiSync: true });
    m = await startTestManager(cluster.all, { semiSync: true });
    await waitFor('a healthy topology', async () => {
      const v = await topology(m);
      return v.primary === idOf(cluster.primary) && v.instances.every((i) => i.healthy) ? v : undefined;
    });
    await cluster.primary.query(APP_SETUP_SQL.join('; '));
    await cluster.sync();
  });
  after(async () => {
    await m?.close();
    await cluster?.destroy();
  });

  it('refuses mutating calls without the bearer token (401) and with a bad body (400)', async () => {
    const none = await post(m, '/api/switchover', {}, null);
    assert.equal(none.status, 401);
    assert.match(String(none.body['error']), /Bearer/);
    const wrong = await post(m, '/api/switchover', {}, 'not-the-token');
    assert.equal(wrong.status, 401);
    const rejoin = await post(m, `/api/instances/${encodeURIComponent(idOf(cluster.replicas[0]!))}/rejoin`, {}, null);
    assert.equal(rejoin.status, 401);

    const badType = await post(m, '/api/switchover', { target: 5 });
    assert.equal(badType.status, 400);
    assert.match(String(badType.body['error']), /target/);
    const extra = await post(m, '/api/switchover', { target: idOf(cluster.replicas[0]!), force: true });
    assert.equal(extra.status, 400);
    const res = await fetch(`${m.adminUrl}/api/switchover`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{not json' });
    assert.equal(res.status, 400);
    const form = await fetch(`${m.adminUrl}/api/switchover`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'target=x' });
    assert.equal(form.status, 415, 'a form body is not silently read as "no target"');
    const huge = await post(m, '/api/switchover', { target: 'x'.repeat(20_000) });
    assert.equal(huge.status, 413);
    const wrongMethod = await fetch(`${m.adminUrl}/api/switchover`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    assert.equal((await fetch(`${m.adminUrl}/api/nope`)).status, 404);

    const unknown = await post(m, '/api/switchover', { target: '10.9.9.9:3306' });
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.body['error']), /10\.9\.9\.9:3306/);
    const self = await post(m, '/api/switchover', { target: idOf(cluster.primary) });
    assert.equal(self.status, 409);
    assert.match(String(self.body['error']), /already the primary/);
    const primaryRejoin = await post(m, `/api/instances/${encodeURIComponent(idOf(cluster.primary))}/rejoin`);
    assert.equal(primaryRejoin.status, 409);
    assert.equal((await post(m, '/api/instances/nope:1/rejoin')).status, 404);
    assert.equal(m.manager.primaryId, idOf(cluster.primary), 'nothing changed');
  });

  it('moves the primary with zero acknowledged writes lost and a short write pause', async () => {
    const target = cluster.replicas[1]!;
    const writer = new Writer(async () => {
      const v = m.manager.view();
      return v.instances.find((i) => i.id === v.primary) ?? null;
    }, 10);
    writer.start();
    await waitFor('100 acknowledged writes', () => writer.acked.length >= 100 || undefined);
    const t0 = Date.now();
    const r = await post(m, '/api/switchover', { target: idOf(target) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body['to'], idOf(target));
    await waitFor('writes on the new primary', () => writer.firstAckAfter(Date.now()) ?? (writer.acked.length > 0 && writer.ackTimes.at(-1)! > t0 + Number(r.body['durationMs']) ? true : undefined), 20_000, 20);
    await waitFor('100 more writes', () => writer.ackTimes.filter((x) => x > t0).length >= 100 || undefined);
    await writer.stop();
    const gap = writer.longestGap(t0 - 1000, Date.now());
    console.log(`# switchover: longest write gap ${gap} ms, read-only window ${String(r.body['readOnlyMs'])} ms`);
    assert.ok(gap < 3000, `writes paused for ${gap} ms`);

    assert.deepEqual(await missingWrites(target, writer.acked), [], 'every acknowledged write is on the new primary');
    const old = cluster.primary;
    await waitFor('the old primary to replicate from the new one', async () => {
      const s = await replicaSource(old);
      return s?.port === target.port && s.io === 'Yes' && s.sql === 'Yes' ? s : undefined;
    });
    await syncFrom(target, [old, cluster.replicas[0]!]);
    assert.deepEqual(await missingWrites(old, writer.acked), []);
    assert.deepEqual(await missingWrites(cluster.replicas[0]!, writer.acked), []);
    const v = await waitFor('a healthy topology around the new primary', async () => {
      const x = await topology(m);
      return x.primary === idOf(target) && x.instances.every((i) => i.healthy) ? x : undefined;
    });
    assert.equal(v.instances.find((i) => i.id === idOf(old))?.role, 'replica');
    const metrics = await (await fetch(`${m.adminUrl}/metrics`)).text();
    assert.match(metrics, /dramble_db_switchovers_total\{[^}]*\} 1/);
    assert.match(metrics, /dramble_db_last_switchover_duration_seconds\{[^}]*\} [0-9.]+/);
    const events = (await (await fetch(`${m.adminUrl}/api/events`)).json()) as { events: Array<{ type: string }> };
    assert.ok(events.events.some((e) => e.type === 'switchover'));
  });
});
