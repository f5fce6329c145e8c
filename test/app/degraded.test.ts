// Degraded modes, in the order a bad day might bring them: Redis down, a replica down, the primary
// down until the db-manager publishes a new one (the app follows the topology without a restart).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Redis } from 'ioredis';
import type { AppHandle } from '@dramble/app';
import { TOPOLOGY_CHANNEL, TOPOLOGY_KEY } from '@dramble/app';
import { apiToken, eventually, login, metricValue, startStack, startTestApp, type Stack } from './helpers.js';

describe('degraded modes', () => {
  let stack: Stack;
  let app: AppHandle;
  let token: string;
  const auth = (): Record<string, string> => ({ Authorization: `Bearer ${token}` });
  const readyChecks = async (): Promise<{ code: number; checks: Record<string, { ok: boolean }> }> => {
    const res = await fetch(`${app.adminUrl}/readyz`);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean }> };
    return { code: res.status, checks: body.checks };
  };

  before(async () => {
    stack = await startStack();
    // The wait ends as soon as a new epoch arrives; the bound is generous for a loaded CI machine.
    app = await startTestApp(stack, 'degraded', [], { failoverWaitMs: 8000 });
    token = await apiToken(app);
    await stack.cluster.sync();
  });
  after(async () => {
    await app?.close();
    await stack?.destroy();
  });

  describe('when Redis is down', () => {
    it('serves pages from MySQL without the cache, says login is unavailable, and recovers', async () => {
      const agent = request.agent(app.server);
      await login(agent);
      await stack.redis.kill();
      await eventually(() => app.redis.status !== 'ready', 'the app to notice Redis is gone');

      const home = await request(app.server).get('/').expect(200);
      assert.match(home.text, /What is the Dramble\?/);
      const post = await request(app.server).get('/posts/the-hardware').expect(200);
      assert.match(post.text, /The hardware/);
      const loginPage = await request(app.server).get('/login').expect(503);
      assert.match(loginPage.text, /Logging in is unavailable/);
      await request(app.server).post('/login').type('form').send({ email: 'admin@dramble.test', password: 'x' }).expect(503);
      await agent.get('/editor').expect(503);
      const cluster = await request(app.server).get('/cluster').expect(200);
      assert.match(cluster.text, /Redis, which cannot be reached/);
      const ready = await readyChecks();
      assert.equal(ready.code, 503);
      assert.equal(ready.checks['redis']?.ok, false);

      await stack.redis.restart();
      await eventually(async () => (await request(app.server).get('/login')).status === 200, 'login to come back with Redis');
      await login(request.agent(app.server));
    });
  });

  describe('when a replica is down', () => {
    it('reads from the primary, and from the replica again once it is back', async () => {
      await stack.cluster.replicas[0]!.kill();
      const before = await metricValue(app, 'dramble_app_db_reads_total', { target: 'primary' });
      const res = await request(app.server).get('/tags/hardware').expect(200);
      assert.match(res.text, /The hardware/);
      const api = await request(app.server).get('/api/v1/posts?tag=deployment').set(auth()).expect(200);
      assert.equal(api.body.total, 1);
      assert.ok((await metricValue(app, 'dramble_app_db_reads_total', { target: 'primary' })) > before);
      await eventually(async () => /skipped/.test((await request(app.server).get('/cluster')).text), '/cluster to show the replica skipped');

      await stack.cluster.replicas[0]!.restart();
      await stack.cluster.sync(30_000);
      await eventually(async () => /serving reads/.test((await request(app.server).get('/cluster')).text), 'the replica to serve reads again');
      const replicaBefore = await metricValue(app, 'dramble_app_db_reads_total', { target: 'replica' });
      await request(app.server).get('/pages/about?x=1').expect(200);
      await request(app.server).get('/api/v1/pages').set(auth()).expect(200);
      assert.ok((await metricValue(app, 'dramble_app_db_reads_total', { target: 'replica' })) > replicaBefore);
    });
  });

  describe('when the primary is down', () => {
    let publisher: Redis;
    before(() => {
      publisher = new Redis(stack.redis.url);
    });
    after(() => publisher?.disconnect());

    const publish = async (topology: unknown): Promise<void> => {
      const text = JSON.stringify(topology);
      await publisher.set(TOPOLOGY_KEY, text);
      await publisher.publish(TOPOLOGY_CHANNEL, text);
    };

    it('stays readable with a banner, and refuses writes with 503 and Retry-After', async () => {
      const editor = request.agent(app.server);
      await login(editor);
      const noPrimary = await metricValue(app, 'dramble_app_writes_refused_total', { reason: 'no-primary' });
      await stack.cluster.sync();
      await stack.cluster.primary.kill();
      await eventually(async () => /database is failing over/.test((await request(app.server).get('/posts/the-hardware')).text), 'the read-only banner');
      const home = await request(app.server).get('/').expect(200);
      assert.match(home.text, /What is the Dramble\?/);
      assert.match(home.text, /class="banner"/);
      const write = await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'During failover', slug: 'during-failover' }).expect(503);
      assert.equal(write.headers['retry-after'], '5');
      assert.equal(write.body.error, 'read-only');
      assert.match(write.body.message, /failing over/);
      assert.ok((await metricValue(app, 'dramble_app_writes_refused_total', { reason: 'no-primary' })) > noPrimary, 'the refusal is counted as no-primary');
      // The editor says so before anyone types into a form that cannot be saved.
      const form = await editor.get('/editor/new').expect(200);
      assert.match(form.text, /class="banner"[^]*database is failing over/);
      const ready = await readyChecks();
      assert.equal(ready.checks['mysql-primary']?.ok, false);
    });

    it('retries a waiting write once on the new primary the db-manager publishes, and ignores an older epoch', async () => {
      const replica = stack.cluster.replicas[0]!;
      const pending = request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'After failover', slug: 'after-failover', status: 'published' });
      const done = pending.then((r) => r);
      // Promote the replica, as the db-manager would, and publish the new topology.
      await replica.query('STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF');
      await publish({ epoch: 7, primary: { id: 'db-2', host: '127.0.0.1', port: replica.port }, replicas: [] });
      const res = await done;
      assert.equal(res.status, 201, res.text);
      assert.equal(app.db.topology.epoch, 7);
      const rows = await replica.query<Array<{ title: string }>>("SELECT title FROM degraded.content WHERE slug = 'after-failover'");
      assert.equal(rows[0]?.title, 'After failover');

      await eventually(async () => !/database is failing over/.test((await request(app.server).get('/pages/about')).text), 'the banner to go');
      const cluster = await request(app.server).get('/cluster').expect(200);
      assert.match(cluster.text, /epoch 7/);
      assert.match(cluster.text, new RegExp(`db-2</td><td>127\\.0\\.0\\.1:${replica.port}`));
      await request(app.server).patch('/api/v1/posts/after-failover').set(auth()).send({ title: 'Edited on the new primary', version: 1 }).expect(200);
      assert.match((await request(app.server).get('/posts/after-failover').expect(200)).text, /Edited on the new primary/);

      // A late message from before the failover must not send writes back to the dead server.
      const ignored = await metricValue(app, 'dramble_app_topology_messages_total', { result: 'ignored' });
      await publish({ epoch: 3, primary: { id: 'db-1', host: '127.0.0.1', port: stack.cluster.primary.port }, replicas: [] });
      await eventually(async () => (await metricValue(app, 'dramble_app_topology_messages_total', { result: 'ignored' })) > ignored, 'the old epoch to be seen');
      assert.equal(app.db.topology.epoch, 7);
      await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'Still here', slug: 'still-here' }).expect(201);
      await eventually(async () => (await readyChecks()).code === 200, 'ready again');
    });
  });
});
