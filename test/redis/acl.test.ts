// Redis ACL users on the real redis-server: the app's user cannot write or publish dramble:topology
// (so no app can steer the others to a MySQL server of its choosing), the db-manager's user can and
// can do nothing else, and unauthenticated clients get nothing. The app's own Redis code (sessions,
// login limiter, page cache, instance registry, topology follower) runs under its user unchanged.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Redis } from 'ioredis';
import { createLogger } from '@dramble/lib';
import { startRedis, type RedisInstance } from '../support/index.js';
import { createRedisPublisher } from '../../services/db-manager/src/publish/redis-topology.js';
import { Sessions } from '../../services/app/src/auth/sessions.js';
import { LoginLimiter } from '../../services/app/src/auth/login-limiter.js';
import { PageCache } from '../../services/app/src/cache/page-cache.js';
import { InstanceRegistry } from '../../services/app/src/cluster/instances.js';
import { createRedisLockElection } from '../../services/db-manager/src/ha/redis-lock-election.js';
import { LEADER_KEY } from '../../services/db-manager/src/wiring.js';
import { redisAclFile } from '../../cli/src/local/redis-acl.js';

/** Sends one inline command on a fresh unauthenticated connection and returns the reply line. */
function rawCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`${command}\r\n`));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString());
    });
    s.once('error', reject);
  });
}

const logger = createLogger({ name: 'redis-acl-test', level: 'silent' });
const topology = (epoch: number) => JSON.stringify({ epoch, primary: { id: 'db1', host: '10.0.0.1', port: 3306 }, replicas: [] });

describe('Redis ACL users', () => {
  let redis: RedisInstance;
  const clients: Redis[] = [];
  const connect = async (url: string): Promise<Redis> => {
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    c.on('error', () => undefined);
    clients.push(c);
    await c.connect();
    return c;
  };
  let app: Redis;
  let manager: Redis;
  before(async () => {
    redis = await startRedis({ acl: { app: 'app-secret-pw', manager: 'manager-secret-pw' } });
    app = await connect(redis.users!.app);
    manager = await connect(redis.users!.manager);
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await redis.destroy();
  });

  it('the app user gets NOPERM on SET and PUBLISH dramble:topology, and on the epoch counter', async () => {
    await manager.set('dramble:topology', topology(3));
    await assert.rejects(app.set('dramble:topology', topology(99)), /NOPERM/);
    await assert.rejects(app.publish('dramble:topology', topology(99)), /NOPERM/);
    await assert.rejects(app.del('dramble:topology'), /NOPERM/);
    await assert.rejects(app.incr('dramble:topology:epoch'), /NOPERM/);
    await assert.rejects(app.multi().set('dramble:topology', topology(99)).exec(), /NOPERM|EXECABORT/);
    assert.equal(await manager.get('dramble:topology'), topology(3), 'the topology is unchanged');
  });

  it('the app user may read dramble:topology and hears what the manager publishes', async () => {
    assert.equal(await app.get('dramble:topology'), topology(3));
    const sub = await connect(redis.users!.app);
    const heard = new Promise<string>((resolve) => sub.on('message', (_ch: string, m: string) => resolve(m)));
    await sub.subscribe('dramble:topology');
    const publisher = createRedisPublisher(redis.users!.manager, logger);
    try {
      const epoch = await publisher.nextEpoch();
      assert.equal(epoch, 4, 'the epoch continues past the stored topology');
      await publisher.publish({ epoch, primary: { id: 'db2', host: '10.0.0.2', port: 3306 }, replicas: [] });
      assert.equal(JSON.parse(await heard).epoch, 4);
      assert.equal(JSON.parse((await app.get('dramble:topology'))!).epoch, 4);
    } finally {
      await publisher.close();
    }
  });

  it('the manager user owns the topology and nothing else: no sessions, no pages, no other channel', async () => {
    assert.equal(await manager.set('dramble:topology', topology(5)), 'OK');
    assert.equal(typeof (await manager.publish('dramble:topology', topology(5))), 'number');
    await assert.rejects(manager.get('dramble:session:abc'), /NOPERM/);
    await assert.rejects(manager.set('dramble:page:/', 'x'), /NOPERM/);
    await assert.rejects(manager.publish('other', 'x'), /NOPERM/);
    await assert.rejects(manager.call('flushall'), /NOPERM/);
  });

  it('the manager user can hold and release the --election redis lock (Lua scripts included); the app user cannot take it', async () => {
    const election = createRedisLockElection({ redis: manager, key: LEADER_KEY, identity: 'dbm-1', ttlMs: 5000, renewIntervalMs: 1000, logger });
    await election.start();
    try {
      const deadline = Date.now() + 5000;
      while (!election.isLeader && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(election.isLeader, true);
      assert.equal(await manager.get(LEADER_KEY), 'dbm-1');
      await assert.rejects(app.set(LEADER_KEY, 'rogue', 'PX', 5000), /NOPERM/);
    } finally {
      await election.stop();
    }
    assert.equal(await manager.get(LEADER_KEY), null, 'released by its compare-and-delete script');
  });

  it('the app user cannot reach keys outside its prefixes or run admin commands', async () => {
    await assert.rejects(app.set('elsewhere', 'x'), /NOPERM/);
    await assert.rejects(app.call('flushall'), /NOPERM/);
    await assert.rejects(app.call('config', 'get', 'maxmemory'), /NOPERM/);
    await assert.rejects(app.call('keys', '*'), /NOPERM/);
    await assert.rejects(app.subscribe('other'), /NOPERM/);
  });

  it('refuses unauthenticated clients (the default user is off) and wrong passwords', async () => {
    // A raw connection: ioredis gives up on its own ready check before a command could be sent.
    assert.match(await rawCommand(redis.port, 'GET dramble:topology'), /^-NOAUTH/);
    assert.match(await rawCommand(redis.port, 'AUTH default nopass'), /^-WRONGPASS/);
    assert.match(await rawCommand(redis.port, 'AUTH dramble-manager guess'), /^-WRONGPASS/);
    assert.match(await rawCommand(redis.port, 'AUTH app manager-secret-pw'), /^-WRONGPASS/, "one user's password is no other's");
  });

  it("runs the app's own Redis code under the app user: sessions, login limiter, page cache, instances", async () => {
    const sessions = new Sessions(app);
    const user = { id: 7, email: 'e@example.org', name: 'E', role: 'editor' } as unknown as Parameters<Sessions['create']>[0];
    const s = await sessions.create(user);
    assert.equal((await sessions.get(s.id))?.user.id, 7);
    await sessions.setLastWrite(7, '0-1-5');
    assert.ok(await sessions.lastWrite(7));
    assert.equal(await sessions.destroyAll(7), 1);
    assert.equal(await sessions.get(s.id), null);

    // No free failures: the first failure already sets a wait (HINCRBY, HSET), which check reads (HGET).
    const limiter = new LoginLimiter(app, { perIpPerMinute: 30, freeFailures: 0, firstDelaySeconds: 60, maxDelaySeconds: 120 });
    assert.deepEqual(await limiter.check('10.0.0.9', 'e@example.org'), { ok: true });
    await limiter.failed('10.0.0.9', 'e@example.org');
    assert.equal((await limiter.check('10.0.0.9', 'e@example.org')).ok, false, 'the wait was stored and read under the app user');
    await limiter.succeeded('10.0.0.9', 'e@example.org');

    const pages = new PageCache(app, { ttlSeconds: 30, maxEntries: 1, maxEntryBytes: 65536 }, logger);
    await pages.set('/posts/a', { status: 200, type: 'text/html', body: '<p>a</p>', tags: ['post:a'], etag: '"1"' });
    assert.equal(String((await pages.get('/posts/a'))?.body), '<p>a</p>', 'the page was stored (PageCache swallows Redis errors, so a hit proves it)');
    assert.deepEqual(await pages.invalidate(['post:a']), ['/posts/a']);
    assert.equal(await pages.get('/posts/a'), undefined);
    // The entry cap (1 here) drops the oldest page: ZADD, ZCARD, ZPOPMIN under the app user.
    await pages.set('/posts/b', { status: 200, type: 'text/html', body: '<p>b</p>', tags: [], etag: '"2"' });
    await pages.set('/posts/c', { status: 200, type: 'text/html', body: '<p>c</p>', tags: [], etag: '"3"' });
    assert.equal(await pages.get('/posts/b'), undefined, 'the oldest page was dropped for the cap');
    assert.equal(String((await pages.get('/posts/c'))?.body), '<p>c</p>');

    const instances = new InstanceRegistry(app, { name: 'app-1', node: 'pi-2', startedAt: Date.now() });
    await instances.beat();
    assert.deepEqual((await instances.list()).map((i) => i.name), ['app-1']);
    await instances.stop();
  });
});

describe('the ACL file', () => {
  it('refuses a password that would break its line (spaces) instead of writing a different rule', () => {
    assert.throws(() => redisAclFile({ app: 'with space', manager: 'x' }), /user app must be/);
    assert.throws(() => redisAclFile({ app: 'x', manager: '' }), /user dramble-manager must be/);
  });
});
