// Two manager processes under a Redis lock; the primary dies and the leader is frozen (SIGSTOP) in
// the middle of the failover for twice the lock TTL, long enough for the standby to take over and
// finish it. When the frozen leader wakes (SIGCONT) it must do nothing more: exactly one promotion
// happens, and the cluster ends with one writable primary. About 25 s: the pause itself is 6 s.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedis, startReplicationCluster, type ReplicationCluster } from '../support/index.js';
import { idOf, waitFor } from './support/helpers.js';
import { FAST_ARGS, spawnManager, type ManagerProcess } from './support/manager-process.js';

const TTL_MS = 3000;

describe('a leader frozen in the middle of a failover', () => {
  let cluster: ReplicationCluster;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: Redis;
  const managers: ManagerProcess[] = [];

  before(async () => {
    [cluster, redis] = await Promise.all([startReplicationCluster({ replicas: 2 }), startRedis()]);
    client = new Redis(redis.url);
  });
  after(async () => {
    for (const p of managers) {
      p.spawned.child.kill('SIGCONT');
      await p.kill();
    }
    client?.disconnect();
    await Promise.all([cluster?.destroy(), redis?.destroy()]);
  });

  it('wakes after the standby took over and does nothing: exactly one promotion', async (t) => {
    const args = [...FAST_ARGS, '--redis-url', redis.url, '--election', 'redis', '--election-ttl-ms', String(TTL_MS)];
    const ids = cluster.all.map(idOf);
    const a = await spawnManager('manager-a', ids, args);
    managers.push(a);
    await waitFor('manager-a to lead', async () => (await a.view()).leader || undefined, 20_000);
    const b = await spawnManager('manager-b', ids, args);
    managers.push(b);
    await waitFor('manager-b to probe as a standby', async () => {
      const v = await b.view();
      return !v.leader && v.instances.every((i) => i.reachable) ? v : undefined;
    }, 20_000);
    await waitFor('a healthy topology', async () => (await a.view()).instances.every((i) => i.healthy) || undefined, 20_000);

    const fromA = a.lines.length;
    await cluster.primary.kill();
    await a.waitForLine(/failover from \S+ to \S+ started/, 30_000, fromA);
    a.spawned.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await waitFor('manager-b to take over', async () => (await b.view()).leader || undefined, 4 * TTL_MS, 100);
    await waitFor('manager-b to finish the failover', async () => {
      const v = await b.view();
      return v.primary !== idOf(cluster.primary) && v.instances.find((i) => i.id === v.primary)?.healthy ? v : undefined;
    }, 30_000);
    // The fault under test is a pause of twice the lock TTL; the standby's takeover happened inside it.
    const rest = 2 * TTL_MS - (Date.now() - stoppedAt);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    const wokeAt = a.lines.length;
    a.spawned.child.kill('SIGCONT');
    await waitFor('manager-a to see it is a standby', async () => (await a.view()).leader === false || undefined, 10_000);
    // Let manager-a run a few probe rounds awake before judging what it did.
    await waitFor('manager-a to probe again', async () => (await a.view()).instances.some((i) => i.id !== idOf(cluster.primary) && i.reachable) || undefined, 10_000);
    await new Promise((r) => setTimeout(r, 1000));

    const promotions = [...a.lines, ...b.lines].filter((l) => /promoted \S+ to primary/.test(l));
    assert.equal(promotions.length, 1, `exactly one promotion:\n${promotions.join('\n')}`);
    t.diagnostic(`promoted by ${a.lines.some((l) => /promoted \S+ to primary/.test(l)) ? 'manager-a before it froze' : 'manager-b after taking over'}`);
    const refused = a.lines.slice(wokeAt).filter((l) => /no longer holds the leader lease/.test(l));
    t.diagnostic(`manager-a refused ${refused.length} step(s) after waking`);
    if (process.env['DBM_TEST_VERBOSE']) t.diagnostic(a.lines.slice(fromA).map((l) => l.slice(0, 300)).join('\n'));
    const afterWake = a.lines.slice(wokeAt).filter((l) => /"event":"(failover|fence|rejoin|repair|reseed|switchover)"|repointed|promoted|re-attached/.test(l));
    assert.deepEqual(afterWake, [], 'the woken manager changed nothing');
    const writable = [];
    for (const i of cluster.all.filter((x) => x.running)) {
      const [r] = await i.query<Array<{ ro: number }>>('SELECT @@read_only AS ro');
      if (Number(r?.ro) === 0) writable.push(idOf(i));
    }
    assert.deepEqual(writable, [(await b.view()).primary], 'one writable primary, the one manager-b names');
  });
});
