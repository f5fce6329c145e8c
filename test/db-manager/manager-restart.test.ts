// The manager is SIGKILLed at each step of a failover and of a switchover and started again, with
// the old primary running again beside the new one: the primary never changes back once a
// promotion happened, and no instance that should take writes is left fenced. What makes this
// hold is the durable manager state (dramble_meta.manager_state) and bootstrap's choice
// (analysis/bootstrap-choice.ts); the restarted manager is always given --primary of the very
// first primary, to tempt it. Chaos test: nine failovers/switchovers with restarts, about a minute.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReplicationCluster, type MariaDBInstance, type ReplicationCluster } from '../support/index.js';
import { idOf, TOKEN, waitFor } from './support/helpers.js';
import { FAST_ARGS, spawnManager, type ManagerProcess } from './support/manager-process.js';

describe('a manager killed in the middle of a recovery', () => {
  let cluster: ReplicationCluster;
  let m: ManagerProcess | undefined;
  let first: MariaDBInstance;
  const byId = (id: string): MariaDBInstance => cluster.all.find((i) => idOf(i) === id)!;
  // A returning old primary with unreplicated heartbeats is re-seeded: its export goes here, not into the repo.
  const exportDir = mkdtempSync(join(tmpdir(), 'dbm-restart-errant-'));
  const start = async (): Promise<ManagerProcess> => spawnManager('restarted', cluster.all.map(idOf), [...FAST_ARGS, '--primary', idOf(first), '--errant-export-dir', exportDir]);

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 2 });
    first = cluster.primary;
    m = await start();
    await settled(null);
  });
  after(async () => {
    await m?.kill();
    await cluster?.destroy();
    rmSync(exportDir, { recursive: true, force: true });
  });

  async function readOnly(i: MariaDBInstance): Promise<boolean> {
    const [r] = await i.query<Array<{ ro: number }>>('SELECT @@read_only AS ro');
    return Number(r?.ro) === 1;
  }

  /** Waits until the manager names a healthy primary and every other instance is a trusted replica; checks the servers agree. */
  async function settled(expectPrimary: string | null, fullRedundancy = true): Promise<string> {
    let last = '';
    const v = await waitFor(
      'a settled topology',
      async () => {
        const t = await m!.view();
        last = JSON.stringify({ primary: t.primary, problem: t.problem, instances: t.instances.map((i) => [i.id, i.role, i.healthy, i.readOnly, i.quarantined, i.errantGtids]) });
        const p = t.instances.find((i) => i.id === t.primary);
        if (!p?.healthy) return undefined;
        // Full redundancy again: every other instance replicates from the primary, trusted (a returning
        // old primary rejoins, or is re-seeded when it holds errant transactions), so the next failure can fail over.
        // (Killed before any promotion, a replica whose IO thread was stopped mid-reconnect can stay in
        // ReplicationBroken, "needs a person": then only trusted and read-only is required.)
        const ok = (i: (typeof t.instances)[number]): boolean => (fullRedundancy ? i.role === 'replica' && i.healthy : i.reachable && i.readOnly === true) && i.quarantined === null;
        return t.instances.filter((i) => i.id !== t.primary).every(ok) ? t : undefined;
      },
      45_000,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nlast view: ${last}\nlog:\n${m!.lines.slice(-25).join('\n')}`);
    });
    if (expectPrimary) assert.equal(v.primary, expectPrimary, `the primary stays ${expectPrimary} (log:\n${m!.lines.slice(-20).join('\n')})`);
    // No instance fenced wrongly: the primary takes writes, and it is the only one that does.
    for (const i of cluster.all) assert.equal(await readOnly(i), idOf(i) !== v.primary, `${idOf(i)} read_only`);
    return v.primary!;
  }

  for (const step of [/failover from \S+ to \S+ started/, /IO thread stopped/, /promoted \S+ to primary/, /"event":"failover"/]) {
    it(`keeps the new primary when killed at "${step.source}" of a failover and the old primary comes back`, async () => {
      const oldPrimary = byId((await m!.view()).primary!);
      const from = m!.lines.length;
      await oldPrimary.kill();
      await m!.waitForLine(step, 30_000, from);
      await m!.kill('SIGKILL');
      const promoted = /promoted (\S+) to primary/.exec(m!.lines.slice(from).join('\n'))?.[1];
      await oldPrimary.restart();
      m = await start();
      const now = await settled(promoted ?? null, promoted !== undefined);
      if (promoted) assert.notEqual(now, idOf(oldPrimary));
    });
  }

  for (const step of [/refused to rejoin|re-attached \S+ as a replica|re-seeded \S+ from/, /"event":"(rejoin|reseed)"/]) {
    it(`keeps the primary when killed at "${step.source}" of the old primary's rejoin`, async () => {
      const oldPrimary = byId((await m!.view()).primary!);
      let from = m!.lines.length;
      await oldPrimary.kill();
      await m!.waitForLine(/"event":"failover"/, 30_000, from);
      const promoted = /promoted (\S+) to primary/.exec(m!.lines.slice(from).join('\n'))![1]!;
      from = m!.lines.length;
      await oldPrimary.restart();
      await m!.waitForLine(step, 30_000, from);
      await m!.kill('SIGKILL');
      m = await start();
      assert.equal(await settled(promoted), promoted);
    });
  }

  for (const step of [/is read-only at/, /promoted \S+ to primary at/, /now replicates from/]) {
    it(`ends with one writable primary when killed at "${step.source}" of a switchover`, async () => {
      const before = (await m!.view()).primary!;
      const from = m!.lines.length;
      const post = (): Promise<{ status: number; body: string } | undefined> =>
        fetch(`${m!.url}/api/switchover`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' }).then(
          async (r) => ({ status: r.status, body: await r.text() }),
          () => undefined, // the manager was killed mid-request
        );
      const line = m!.waitForLine(step, 30_000, from);
      let res = post();
      // A repair the restarted manager still runs (an automatic rejoin) refuses with 409 "another
      // operation is running": ask again (every 200 ms, up to 20 s) until the switchover is taken.
      for (const deadline = Date.now() + 20_000; ; ) {
        const first = await Promise.race([line.then(() => 'running' as const), res]);
        if (first === 'running') break;
        if (first && first.status === 409 && /another operation is running/.test(first.body) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          res = post();
          continue;
        }
        if (first && first.status !== 200) assert.fail(`switchover refused: ${first.status} ${first.body}`);
        break;
      }
      await line;
      await m!.kill('SIGKILL');
      await res;
      const promoted = /promoted (\S+) to primary at/.exec(m!.lines.slice(from).join('\n'))?.[1];
      m = await start();
      const now = await settled(promoted ?? null);
      if (!promoted) assert.equal(now, before, 'an unfinished switchover is rolled back to the old primary');
    });
  }
});
