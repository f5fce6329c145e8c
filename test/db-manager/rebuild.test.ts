// An operator rebuilds a fenced instance holding an errant transaction: through POST /api/rebuild
// with the bearer token, and through `dramble rebuild <name>` against the running manager's API.
// Either way its errant transaction ends up in the export file, and it replicates again.
// Automatic re-seeding is off here, so only the operator's call can heal it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunningManager } from '@dramble/db-manager';
import { spawnTracked, startReplicationCluster, type MariaDBInstance, type ReplicationCluster } from '../support/index.js';
import { idOf, post, replicaSource, startTestManager, syncFrom, TOKEN, topology, waitFor } from './support/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = ['--conditions=dramble-src', '--import', 'tsx', join(ROOT, 'cli/src/main.ts')];

describe('rebuilding a fenced instance with an errant transaction', () => {
  let cluster: ReplicationCluster;
  let m: RunningManager;
  const exportDir = mkdtempSync(join(tmpdir(), 'dbm-rebuild-export-'));
  const cliDir = mkdtempSync(join(tmpdir(), 'dbm-rebuild-cli-'));

  before(async () => {
    cluster = await startReplicationCluster({ replicas: 2 });
    m = await startTestManager(cluster.all, { probeIntervalMs: 200, reseedErrant: false, errantExportDir: exportDir });
    await waitFor('a healthy topology', async () => {
      const v = await topology(m);
      return v.primary === idOf(cluster.primary) && v.instances.every((i) => i.healthy) ? v : undefined;
    });
    await cluster.primary.query('CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(64)); INSERT INTO shop.orders VALUES (1, "first")');
    await cluster.sync();
  });
  after(async () => {
    await m?.close();
    await cluster?.destroy();
    rmSync(exportDir, { recursive: true, force: true });
    rmSync(cliDir, { recursive: true, force: true });
  });

  /** A person writes on a replica (root ignores read_only): an errant GTID the manager fences. */
  async function makeErrant(i: MariaDBInstance, id: number): Promise<void> {
    await i.query('INSERT INTO shop.orders VALUES (?, ?)', [id, `errant on ${i.port}`]);
    await waitFor(`${idOf(i)} fenced for its errant GTID`, async () => {
      const v = await topology(m);
      const x = v.instances.find((y) => y.id === idOf(i));
      return x?.quarantined && x.errantGtids.length > 0 && x.readOnly === true ? x : undefined;
    });
  }

  async function replicatesCleanly(i: MariaDBInstance): Promise<void> {
    await waitFor(`${idOf(i)} replicating from the primary`, async () => {
      const s = await replicaSource(i);
      return s?.port === cluster.primary.port && s.io === 'Yes' && s.sql === 'Yes' ? s : undefined;
    });
    await cluster.primary.query('INSERT INTO shop.orders VALUES (?, "after rebuild")', [100 + i.port % 100]);
    await syncFrom(cluster.primary, [i]);
    const mine = await i.query<Array<{ id: number }>>('SELECT id FROM shop.orders ORDER BY id');
    const theirs = await cluster.primary.query<Array<{ id: number }>>('SELECT id FROM shop.orders ORDER BY id');
    assert.deepEqual(mine.map((r) => r.id), theirs.map((r) => r.id), 'the primary\'s rows, without the errant one');
    await waitFor(`${idOf(i)} a healthy, trusted replica`, async () => {
      const x = (await topology(m)).instances.find((y) => y.id === idOf(i));
      return x?.role === 'replica' && x.healthy && x.quarantined === null && x.errantGtids.length === 0 ? x : undefined;
    });
  }

  it('POST /api/rebuild with the token exports the errant transaction and re-attaches it', async () => {
    const target = cluster.replicas[0]!;
    await makeErrant(target, 50);
    const r = await post(m, '/api/rebuild', { instance: idOf(target) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body['instance'], idOf(target));
    assert.equal(r.body['primary'], idOf(cluster.primary));
    const errant = r.body['errantGtids'] as string[];
    assert.equal(errant.length, 1);
    const file = String(r.body['exportFile']);
    assert.ok(existsSync(file), `export file ${file}`);
    const text = readFileSync(file, 'utf8');
    assert.match(text, new RegExp(errant[0]!.replace(/-/g, '\\-')), 'the file names the errant GTID');
    assert.match(text, /INSERT INTO `?shop`?\.`?orders`?.*50/, `and holds its statement:\n${text}`);
    await replicatesCleanly(target);
  });

  it('dramble rebuild <name> against the running manager exits 0 and does the same', async () => {
    const target = cluster.replicas[1]!;
    await makeErrant(target, 60);
    // What `dramble up` would have written: where the manager listens, the MySQL processes by name, and the token.
    const mysql = cluster.all.map((i, n) => ({ name: `mysql-${n}`, role: 'mysql', pid: i.pid, port: i.port, marker: 'test', command: 'mariadbd', args: [] }));
    writeFileSync(join(cliDir, 'cluster.json'), JSON.stringify({
      version: 1, dir: cliDir, state: 'running', startedAt: new Date().toISOString(),
      mysql: { external: true, instances: cluster.all.map((i, n) => ({ name: `mysql-${n}`, host: i.host, port: i.port })) },
      processes: [...mysql, { name: 'db-manager', role: 'db-manager', pid: process.pid, port: 0, adminUrl: m.adminUrl, marker: 'test', command: 'node', args: [] }],
    }), { mode: 0o600 });
    writeFileSync(join(cliDir, 'credentials.json'), JSON.stringify({ dbManagerToken: TOKEN }), { mode: 0o600 });
    const before = new Set(readdirSync(exportDir));

    const run = async (name: string): Promise<{ code: unknown; out: string }> => {
      const p = spawnTracked(process.execPath, [...CLI, 'rebuild', name, '--dir', cliDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      p.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      return { code: await p.exited, out };
    };
    const ok = await run('mysql-2');
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, new RegExp(`done in [\\d.]+ s: ${idOf(target).replace(/\./g, '\\.')} is a replica of ${idOf(cluster.primary).replace(/\./g, '\\.')}`));
    const exported = /errant transactions (\S+) were exported to (\S+)/.exec(ok.out);
    assert.ok(exported, `the command names the export file:\n${ok.out}`);
    assert.ok(!before.has(exported[2]!.split('/').pop()!), 'a new file');
    assert.match(readFileSync(exported[2]!, 'utf8'), /INSERT INTO `?shop`?\.`?orders`?.*60/);
    await replicatesCleanly(target);

    const refused = await run('mysql-0');
    assert.equal(refused.code, 1, 'rebuilding the primary is refused');
    assert.match(refused.out, /rebuild refused: 409 .*primary/);
  });
});
