// Writes under faults the app cannot see coming: a hung primary (SIGSTOPped mariadbd), a statement
// stuck on a lock, a silent Redis (so a failover could go unheard), and late, older topology epochs.
// Reads must go on throughout; writes must answer 503 with Retry-After within their bounds, the
// refusals are counted by reason, and while Redis is silent the site says it is read-only and why.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import type { AppHandle } from '@dramble/app';
import { TOPOLOGY_CHANNEL, TOPOLOGY_KEY } from '@dramble/app';
import { apiToken, eventually, login, metricValue, startStack, startTestApp, type Stack } from './helpers.js';

const WRITE_TIMEOUT_MS = 1500;
const CONNECT_TIMEOUT_MS = 1000;
const FAILOVER_WAIT_MS = 300;
const SILENCE_MS = 2000;
// Room for a loaded 2-core machine on top of the bounds under test.
const MARGIN_MS = 2000;

describe('writes under faults', () => {
  let stack: Stack;
  let app: AppHandle;
  let token: string;
  const auth = (): Record<string, string> => ({ Authorization: `Bearer ${token}` });

  before(async () => {
    stack = await startStack();
    app = await startTestApp(
      stack,
      'writefaults',
      ['--write-timeout-ms', String(WRITE_TIMEOUT_MS), '--mysql-connect-timeout-ms', String(CONNECT_TIMEOUT_MS), '--write-stop-after-redis-silence-ms', String(SILENCE_MS)],
      { failoverWaitMs: FAILOVER_WAIT_MS },
    );
    token = await apiToken(app);
    await stack.cluster.sync();
  });
  after(async () => {
    await app?.close();
    await stack?.destroy();
  });

  describe('when the primary hangs (SIGSTOP)', () => {
    it('answers a write 503 with Retry-After within the write timeout, keeps reading, and writes again after SIGCONT', async () => {
      // A pooled connection is idle now (the token was just written): the hang is met mid-session.
      await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'Before the hang', slug: 'before-hang' }).expect(201);
      await stack.cluster.sync();
      const pid = stack.cluster.primary.pid;
      process.kill(pid, 'SIGSTOP');
      try {
        const started = Date.now();
        const res = await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'During the hang', slug: 'during-hang' });
        const took = Date.now() - started;
        assert.equal(res.status, 503, res.text);
        assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After is set');
        assert.ok(took < Math.max(WRITE_TIMEOUT_MS, CONNECT_TIMEOUT_MS) + FAILOVER_WAIT_MS + MARGIN_MS, `answered in ${took} ms`);

        // A second write, now on a new connection to the hung server: the connect bound ends it.
        const started2 = Date.now();
        const res2 = await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'During the hang 2', slug: 'during-hang-2' });
        assert.equal(res2.status, 503, res2.text);
        assert.ok(Date.now() - started2 < Math.max(WRITE_TIMEOUT_MS, CONNECT_TIMEOUT_MS) + FAILOVER_WAIT_MS + MARGIN_MS, `second write answered in ${Date.now() - started2} ms`);

        // Reads come from the replica meanwhile.
        const read = await request(app.server).get('/api/v1/posts/before-hang').set(auth()).expect(200);
        assert.equal(read.body.title, 'Before the hang');
        // A read the replica cannot answer asks the primary (an unknown token is looked up there
        // too, in case the replica lags): bounded as well, it ends instead of hanging.
        const started3 = Date.now();
        const unknown = await request(app.server).get('/api/v1/posts').set('Authorization', 'Bearer not-a-token');
        assert.ok([401, 503].includes(unknown.status), `${unknown.status} ${unknown.text}`);
        assert.ok(Date.now() - started3 < WRITE_TIMEOUT_MS + MARGIN_MS, `unknown token answered in ${Date.now() - started3} ms`);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // The pool is not left holding stalled connections: writes work again once it wakes.
      await eventually(
        async () => (await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'After the hang', slug: 'after-hang' })).status === 201,
        'a write to succeed after SIGCONT',
      );
      // The timed-out writes never committed: their connections were dropped before COMMIT.
      const rows = await stack.cluster.primary.query<Array<{ slug: string }>>("SELECT slug FROM writefaults.content WHERE slug LIKE 'during-hang%'");
      assert.deepEqual(rows, []);
    });
  });

  describe('when a write statement waits on a lock', () => {
    it('gives up after the write timeout with 503, counts it as timed out, and leaves the row as it was', async () => {
      const row = await request(app.server).get('/api/v1/posts/after-hang').set(auth()).expect(200);
      const timedOut = await metricValue(app, 'dramble_app_writes_refused_total', { reason: 'timeout' });
      const locker = await stack.cluster.primary.connect('writefaults');
      try {
        await locker.query('START TRANSACTION');
        await locker.query('SELECT id FROM content WHERE slug = ? FOR UPDATE', ['after-hang']);
        const started = Date.now();
        const res = await request(app.server).patch('/api/v1/posts/after-hang').set(auth()).send({ title: 'Locked out', version: row.body.version });
        assert.equal(res.status, 503, res.text);
        assert.ok(Number(res.headers['retry-after']) > 0);
        assert.ok(Date.now() - started < WRITE_TIMEOUT_MS + FAILOVER_WAIT_MS + MARGIN_MS, `answered in ${Date.now() - started} ms`);
        assert.equal(await metricValue(app, 'dramble_app_writes_refused_total', { reason: 'timeout' }), timedOut + 1);
        // The server gives up on the abandoned statement soon too, instead of after InnoDB's 50 s.
        await eventually(async () => {
          const rows = await stack.cluster.primary.query<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'");
          return Number(rows[0]?.n) === 0;
        }, 'the server to drop the abandoned lock wait', WRITE_TIMEOUT_MS + 2000 + MARGIN_MS);
      } finally {
        await locker.query('ROLLBACK');
        await locker.end();
      }
      const now = await request(app.server).get('/api/v1/posts/after-hang').set(auth()).expect(200);
      assert.equal(now.body.title, 'After the hang');
      await request(app.server).patch('/api/v1/posts/after-hang').set(auth()).send({ title: 'Unlocked', version: row.body.version }).expect(200);
    });
  });

  describe('when Redis goes silent', () => {
    it('stops writes with 503 and Retry-After after the bound, keeps reading, and writes again when Redis answers', async () => {
      const pid = stack.redis.pid;
      const silentRefusals = await metricValue(app, 'dramble_app_writes_refused_total', { reason: 'redis-silent' });
      let n = 0;
      const write = () => request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'While Redis is silent', slug: `redis-silent-${++n}` });
      process.kill(pid, 'SIGSTOP');
      const stopped = Date.now();
      try {
        const refused = (await eventually(async () => {
          const res = await write();
          return res.status === 503 ? res : undefined;
        }, 'writes to stop'))!;
        const took = Date.now() - stopped;
        // The bound, plus one Redis command timeout (1 s) of the request itself, plus the margin.
        assert.ok(took < SILENCE_MS + 1000 + MARGIN_MS, `writes stopped after ${took} ms`);
        assert.ok(Number(refused.headers['retry-after']) > 0);
        assert.equal(refused.body.error, 'read-only');
        assert.match(refused.body.message, /Redis is not answering/);
        // Every write from now on is refused, not just one.
        assert.equal((await write()).status, 503);
        assert.ok((await metricValue(app, 'dramble_app_writes_refused_total', { reason: 'redis-silent' })) >= silentRefusals + 2, 'refusals counted as redis-silent');
        // Reads go on from MySQL.
        const read = await request(app.server).get('/api/v1/posts/after-hang').set(auth()).expect(200);
        assert.equal(read.body.slug, 'after-hang');
        await request(app.server).get('/posts/the-hardware').expect(200);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await eventually(async () => (await write()).status === 201, 'writes to resume once Redis answers');
    });

    it('shows the read-only banner saying why, and an editor form sent meanwhile says nothing was saved and why', async () => {
      const agent = request.agent(app.server);
      const csrf = await login(agent);
      const edit = await agent.get('/editor/new').expect(200);
      assert.doesNotMatch(edit.text, /class="banner"/);
      const pid = stack.redis.pid;
      process.kill(pid, 'SIGSTOP');
      try {
        const page = (await eventually(async () => {
          const res = await request(app.server).get('/posts/the-hardware');
          return res.status === 200 && /class="banner"/.test(res.text) ? res : undefined;
        }, 'the read-only banner'))!;
        assert.match(page.text, /cannot hear the database manager right now \(Redis is not answering\)/);
        assert.match(page.text, /the site is read-only for a moment, and editing is paused/);
        // The page itself still comes from MySQL.
        assert.match(page.text, /The hardware/i);
        const sent = await agent.post('/editor/new').type('form').send({ _csrf: csrf, kind: 'post', title: 'Typed during the silence', slug: 'typed-in-silence', summary: '', body: 'x', tags: '', action: 'save' });
        assert.equal(sent.status, 503, sent.text.slice(0, 300));
        assert.ok(Number(sent.headers['retry-after']) > 0);
        assert.match(sent.text, /Nothing was saved/);
        assert.match(sent.text, /Redis is not answering/);
        assert.match(sent.text, /class="banner"/);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await eventually(async () => !/class="banner"/.test((await request(app.server).get('/posts/the-hardware')).text), 'the banner to go once Redis answers');
      const rows = await stack.cluster.primary.query<Array<{ slug: string }>>("SELECT slug FROM writefaults.content WHERE slug = 'typed-in-silence'");
      assert.deepEqual(rows, []);
    });
  });

  describe('topology epochs', () => {
    let publisher: Redis;
    before(() => {
      publisher = new Redis(stack.redis.url);
    });
    after(() => publisher?.disconnect());
    const topology = (epoch: number, primaryPort: number): string =>
      JSON.stringify({ epoch, primary: { id: 'db', host: '127.0.0.1', port: primaryPort }, replicas: [{ id: 'db-r', host: '127.0.0.1', port: stack.cluster.replicas[0]!.port, lagSeconds: 0 }] });
    // A port nothing listens on: a write sent there would fail, so a 201 proves it went to the real primary.
    const deadPort = (): number => stack.cluster.replicas[0]!.port + 7;
    const ignored = (a: AppHandle): Promise<number> => metricValue(a, 'dramble_app_topology_messages_total', { result: 'ignored' });

    it('ignores an older epoch published on the channel after a newer one', async () => {
      await publisher.set(TOPOLOGY_KEY, topology(5, stack.cluster.primary.port));
      await publisher.publish(TOPOLOGY_CHANNEL, topology(5, stack.cluster.primary.port));
      await eventually(() => app.db.topology.epoch === 5, 'epoch 5 to be followed');
      const before = await ignored(app);
      await publisher.publish(TOPOLOGY_CHANNEL, topology(3, deadPort()));
      await eventually(async () => (await ignored(app)) > before, 'the older epoch to be seen and ignored');
      assert.equal(app.db.topology.epoch, 5);
      assert.equal(app.db.topology.primary?.port, stack.cluster.primary.port);
      await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'Epoch 5', slug: 'epoch-5' }).expect(201);
    });

    it('ignores an older epoch found in the key when it re-reads it (after a reconnect, and every few seconds)', async () => {
      await publisher.set(TOPOLOGY_KEY, topology(4, deadPort()));
      const before = await ignored(app);
      // Drop the app's subscriber connection: on reconnect it re-reads the key.
      await publisher.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await eventually(async () => (await ignored(app)) > before, 'the re-read to see the older epoch');
      assert.equal(app.db.topology.epoch, 5);
      await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'Still epoch 5', slug: 'still-epoch-5' }).expect(201);
    });

    it('starts from the epoch in the key and then ignores older ones', async () => {
      await publisher.set(TOPOLOGY_KEY, topology(9, stack.cluster.primary.port));
      const second = await startTestApp(stack, 'writefaults', [], { failoverWaitMs: FAILOVER_WAIT_MS });
      try {
        assert.equal(second.db.topology.epoch, 9);
        const before = await ignored(second);
        await publisher.publish(TOPOLOGY_CHANNEL, topology(8, deadPort()));
        await eventually(async () => (await ignored(second)) > before, 'the older epoch to be ignored');
        assert.equal(second.db.topology.epoch, 9);
        assert.equal(second.db.topology.primary?.port, stack.cluster.primary.port);
      } finally {
        await second.close();
      }
    });
  });

  describe('when the primary is cut off by a network partition', () => {
    // A network namespace behind a veth pair stands for another Pi. With its end of the link down
    // and a fixed neighbour entry on ours, packets to it vanish without an answer (no RST, no ICMP),
    // as across a split network: only the connect timeout ends a connection attempt.
    const isRoot = process.getuid?.() === 0;
    const ns = `drw-${process.pid}`;
    const ours = `drwa${process.pid % 100_000}`;
    const theirs = `drwb${process.pid % 100_000}`;
    const net = `10.231.${process.pid % 250}`;
    const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'pipe' });
    let publisher: Redis;

    before(() => {
      if (!isRoot) return;
      publisher = new Redis(stack.redis.url);
      ip('netns', 'add', ns);
      ip('link', 'add', ours, 'type', 'veth', 'peer', 'name', theirs);
      ip('link', 'set', theirs, 'netns', ns);
      ip('addr', 'add', `${net}.1/30`, 'dev', ours);
      ip('link', 'set', ours, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', theirs, 'address', '02:00:00:00:00:02');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', theirs);
      ip('neigh', 'replace', `${net}.2`, 'lladdr', '02:00:00:00:00:02', 'dev', ours, 'nud', 'permanent');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', theirs, 'down'); // the split
    });
    after(() => {
      publisher?.disconnect();
      if (isRoot) {
        try {
          ip('netns', 'del', ns); // takes the veth pair with it
        } catch {
          /* never created */
        }
      }
    });

    it('fails a write fast with 503 when the published primary cannot be reached, and writes again on a reachable one', async (t) => {
      if (!isRoot) {
        console.warn('SKIPPED: the partition test needs root for ip netns and veth');
        return t.skip('needs root (ip netns, veth)');
      }
      const publish = async (epoch: number, host: string, port: number): Promise<void> => {
        const text = JSON.stringify({ epoch, primary: { id: 'db', host, port }, replicas: [{ id: 'db-r', host: '127.0.0.1', port: stack.cluster.replicas[0]!.port, lagSeconds: 0 }] });
        await publisher.set(TOPOLOGY_KEY, text);
        await publisher.publish(TOPOLOGY_CHANNEL, text);
      };
      await publish(20, `${net}.2`, 3306);
      await eventually(() => app.db.topology.epoch === 20, 'the partitioned primary to be followed');
      const started = Date.now();
      const res = await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'Across the split', slug: 'across-split' });
      const took = Date.now() - started;
      assert.equal(res.status, 503, res.text);
      assert.ok(Number(res.headers['retry-after']) > 0);
      assert.ok(took < CONNECT_TIMEOUT_MS + FAILOVER_WAIT_MS + MARGIN_MS, `answered in ${took} ms`);
      // Reads are unaffected: they go to the replica.
      await request(app.server).get('/api/v1/posts/after-hang').set(auth()).expect(200);

      await publish(21, '127.0.0.1', stack.cluster.primary.port);
      await eventually(() => app.db.topology.epoch === 21, 'the reachable primary to be followed');
      await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'Across the split', slug: 'across-split' }).expect(201);
    });
  });
});
