// Schema migrations under GET_LOCK: instances starting together on a fresh database apply each
// migration exactly once, seed the starter site once, and create the first admin once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { latestVersion, loadMigrations, type AppHandle } from '@dramble/app';
import { startStack, startTestApp, type Stack } from './helpers.js';

describe('schema migrations', () => {
  let stack: Stack;
  const apps: AppHandle[] = [];

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await stack?.destroy();
  });

  it('applies each migration exactly once when three instances start at the same moment', async () => {
    apps.push(...(await Promise.all([startTestApp(stack, 'race'), startTestApp(stack, 'race'), startTestApp(stack, 'race')])));
    const names = loadMigrations().map((m) => m.name);
    const appliedByEach = apps.map((a) => a.migrationsApplied);
    assert.deepEqual(appliedByEach.flat().sort(), [...names].sort(), 'every migration applied by exactly one instance');
    assert.equal(appliedByEach.filter((a) => a.length > 0).length, 1, 'one instance did all the work under the lock');
    for (const a of apps) assert.equal(a.schemaVersion, latestVersion());

    const rows = await stack.cluster.primary.query<Array<{ version: number }>>('SELECT version FROM race.schema_migrations ORDER BY version');
    assert.deepEqual(rows.map((r) => Number(r.version)), loadMigrations().map((m) => m.version));
    const content = await stack.cluster.primary.query<Array<{ kind: string; n: number }>>('SELECT kind, COUNT(*) AS n FROM race.content GROUP BY kind ORDER BY kind');
    assert.deepEqual(content.map((r) => [r.kind, Number(r.n)]), [['post', 3], ['page', 1]], 'the starter site is seeded once');
    const users = await stack.cluster.primary.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM race.users');
    assert.equal(Number(users[0]!.n), 1, 'one first admin');
    for (const a of apps) await request(a.server).get('/posts/the-hardware').expect(200);
  });

  it('applies nothing on a restart of an up-to-date database', async () => {
    const again = await startTestApp(stack, 'race');
    apps.push(again);
    assert.deepEqual(again.migrationsApplied, []);
    const ready = (await (await fetch(`${again.adminUrl}/readyz`)).json()) as { checks: { migrations: { detail: { schemaVersion: number } } } };
    assert.equal(ready.checks.migrations.detail.schemaVersion, latestVersion());
  });
});
