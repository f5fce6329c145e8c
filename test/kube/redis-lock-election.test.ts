// Leader election on a Redis lock (for running outside Kubernetes), against a real redis-server.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createRedisLockElection } from '../../services/db-manager/src/ha/redis-lock-election.js';
import type { LeaderElection } from '../../services/db-manager/src/ha/types.js';
import { startRedis, type RedisInstance } from '../support/index.js';
import { quietLogger, spawnElector, waitFor } from './helpers.js';

const TTL_MS = 2000;
const RENEW_MS = 300;

describe('Redis lock leader election', () => {
  let redis: RedisInstance;
  let admin: Redis;
  const clients: Redis[] = [];
  const running: LeaderElection[] = [];
  let keySeq = 0;

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    admin.on('error', () => {}); // reconnects by itself while the test kills redis
  });
  after(async () => {
    admin.disconnect();
    await redis.destroy();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((e) => e.stop()));
    for (const c of clients.splice(0)) c.disconnect();
  });

  const elector = (key: string, identity: string): LeaderElection => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => {});
    clients.push(client);
    const e = createRedisLockElection({ redis: client, key, identity, ttlMs: TTL_MS, renewIntervalMs: RENEW_MS, logger: quietLogger });
    running.push(e);
    return e;
  };

  it('makes exactly one of two candidates leader and keeps the lock alive', async () => {
    const key = `lock:${++keySeq}`;
    const a = elector(key, 'a');
    const b = elector(key, 'b');
    await Promise.all([a.start(), b.start()]);
    await waitFor(() => a.isLeader !== b.isLeader && a.holder === b.holder, 'one leader');
    const leader = a.isLeader ? 'a' : 'b';
    assert.equal(await admin.get(key), leader);
    // Renewed: after more than a ttl the same holder still has it, with a fresh expiry.
    await new Promise((r) => setTimeout(r, TTL_MS + 500)); // the behaviour under test is the passage of time itself
    assert.equal(await admin.get(key), leader);
    assert.ok((await admin.pttl(key)) > TTL_MS - RENEW_MS - 500);
    assert.equal([a, b].filter((e) => e.isLeader).length, 1);
  });

  it('releases on stop so the standby takes over at once', async () => {
    const key = `lock:${++keySeq}`;
    const a = elector(key, 'a');
    await a.start();
    const b = elector(key, 'b');
    await b.start();
    assert.deepEqual([a.isLeader, b.isLeader, b.holder], [true, false, 'a']);
    await a.stop();
    assert.equal(await admin.get(key), null, 'released');
    const t0 = Date.now();
    await waitFor(() => b.isLeader, 'b takes over');
    assert.ok(Date.now() - t0 < TTL_MS, `took ${Date.now() - t0} ms`);
    assert.equal(await admin.get(key), 'b');
  });

  it('lets a standby take over within one ttl after the leader process is killed', async () => {
    const key = `lock:${++keySeq}`;
    const proc = spawnElector(['redis', redis.url, key, 'killed']);
    await waitFor(() => proc.lines.includes('leader'), 'child process leads', 30_000);
    const b = elector(key, 'standby');
    await b.start();
    assert.equal(b.holder, 'killed');
    proc.spawned.child.kill('SIGKILL');
    await proc.spawned.exited;
    const t0 = Date.now();
    await waitFor(() => b.isLeader, 'standby takes over');
    const took = Date.now() - t0;
    assert.ok(took <= TTL_MS + RENEW_MS + 1500, `takeover took ${took} ms`);
    assert.equal(await admin.get(key), 'standby');
  });

  it('never renews or deletes a lock someone else holds', async () => {
    const key = `lock:${++keySeq}`;
    const a = elector(key, 'a');
    await a.start();
    assert.equal(a.isLeader, true);
    // Its lock expired and another manager took it (e.g. after a long pause of this process).
    await admin.set(key, 'intruder', 'PX', 60_000);
    await waitFor(() => !a.isLeader, 'a notices it lost the lock');
    assert.equal(a.holder, 'intruder');
    await a.stop();
    assert.equal(await admin.get(key), 'intruder');
    assert.ok((await admin.pttl(key)) > 50_000, 'its expiry was not touched');
  });

  it('steps down when Redis is gone, and leads again when it is back', async () => {
    const key = `lock:${++keySeq}`;
    const a = elector(key, 'a');
    await a.start();
    assert.equal(a.isLeader, true);
    await redis.kill();
    const t0 = Date.now();
    await waitFor(() => !a.isLeader, 'steps down');
    assert.ok(Date.now() - t0 < TTL_MS, `stepped down after ${Date.now() - t0} ms; the lock lasts ${TTL_MS} ms`);
    await redis.restart(); // an empty redis: the lock is free
    await waitFor(() => a.isLeader, 'leads again', 30_000);
    assert.equal(await admin.get(key), 'a');
  });
});
