// The content API's Idempotency-Key: a client that did not hear the answer to a write retries it
// with the same key and gets the first answer, never a second row; the key lives in MySQL with the
// write, so the new primary after a failover knows it too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { Redis } from 'ioredis';
import type { AppHandle } from '@dramble/app';
import { decideClaim, parseIdempotencyKey, TOPOLOGY_CHANNEL, TOPOLOGY_KEY } from '@dramble/app';
import { apiToken, eventually, startStack, startTestApp, type Stack } from './helpers.js';

describe('Idempotency-Key rules', () => {
  it('accepts one visible-ASCII value of up to 255 characters and refuses anything else', () => {
    assert.equal(parseIdempotencyKey(undefined), undefined);
    assert.deepEqual(parseIdempotencyKey('a1b2-c3'), { key: 'a1b2-c3' });
    for (const bad of ['', 'has space', 'x'.repeat(256), 'tab\there', 'ünï', 'k1, k2']) assert.ok('error' in (parseIdempotencyKey(bad) ?? {}), bad);
    assert.ok('error' in (parseIdempotencyKey(['a', 'b']) ?? {}));
  });

  it('decides from the stored key: claim, replay, mismatch, in progress, take over', () => {
    const k = (over: Partial<{ requestHash: string; state: 'pending' | 'done'; leaseOver: boolean; expired: boolean }> = {}) => ({ requestHash: 'h', state: 'done' as const, leaseOver: false, expired: false, ...over });
    assert.equal(decideClaim(null, 'h'), 'claim');
    assert.equal(decideClaim(k(), 'h'), 'replay');
    assert.equal(decideClaim(k(), 'other'), 'mismatch');
    assert.equal(decideClaim(k({ state: 'pending' }), 'h'), 'in-progress');
    assert.equal(decideClaim(k({ state: 'pending' }), 'other'), 'mismatch');
    assert.equal(decideClaim(k({ state: 'pending', leaseOver: true }), 'h'), 'takeover');
    assert.equal(decideClaim(k({ expired: true }), 'other'), 'takeover');
  });
});

describe('Idempotency-Key on the content API', () => {
  let stack: Stack;
  let app: AppHandle;
  let token: string;
  const auth = (t = token): Record<string, string> => ({ Authorization: `Bearer ${t}` });
  const key = (): string => `k-${randomBytes(8).toString('hex')}`;
  const rows = async (slug: string): Promise<number> => {
    const r = await stack.cluster.primary.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM idem.content WHERE slug = ?', [slug]);
    return Number(r[0]?.n);
  };

  before(async () => {
    stack = await startStack();
    app = await startTestApp(stack, 'idem');
    token = await apiToken(app);
  });
  after(async () => {
    await app?.close();
    await stack?.destroy();
  });

  it('answers a retry with the first response and writes one row', async () => {
    const k = key();
    const body = { title: 'Once only', slug: 'once-only', body: 'Hello' };
    const first = await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send(body).expect(201);
    const retry = await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send(body).expect(201);
    assert.deepEqual(retry.body, first.body);
    assert.equal(retry.headers['location'], first.headers['location']);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(await rows('once-only'), 1);
    // Without the key the same body is a new request, refused as a duplicate slug as before.
    await request(app.server).post('/api/v1/posts').set(auth()).send(body).expect(409);
  });

  it('refuses the same key with a different body with 422 and writes nothing', async () => {
    const k = key();
    await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send({ title: 'First body', slug: 'first-body' }).expect(201);
    const res = await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send({ title: 'Second body', slug: 'second-body' }).expect(422);
    assert.equal(res.body.error, 'idempotency key reused');
    assert.equal(await rows('second-body'), 0);
    // The same key on another endpoint is another request too.
    await request(app.server).post('/api/v1/pages').set(auth()).set('Idempotency-Key', k).send({ title: 'First body', slug: 'first-body' }).expect(422);
  });

  it('lets concurrent requests with one key write one row; the others replay or hear 409', async () => {
    const k = key();
    const body = { title: 'Raced', slug: 'raced' };
    const all = await Promise.all(Array.from({ length: 6 }, () => request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send(body)));
    const created = all.filter((r) => r.status === 201);
    assert.ok(created.length >= 1, all.map((r) => r.status).join(','));
    for (const r of all) assert.ok(r.status === 201 || r.status === 409, `${r.status} ${r.text}`);
    for (const r of all.filter((x) => x.status === 409)) assert.equal(r.headers['retry-after'], '1');
    assert.equal(new Set(created.map((r) => r.body.id)).size, 1);
    assert.equal(await rows('raced'), 1);
    // Once the first finished, a retry replays it.
    const again = await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send(body).expect(201);
    assert.equal(again.body.id, created[0]!.body.id);
  });

  it('replays an edit and a delete instead of judging them against the row they changed', async () => {
    const post = await request(app.server).post('/api/v1/posts').set(auth()).send({ title: 'To edit', slug: 'to-edit' }).expect(201);
    const k = key();
    const edit = { title: 'Edited once', version: post.body.version };
    const first = await request(app.server).patch('/api/v1/posts/to-edit').set(auth()).set('Idempotency-Key', k).send(edit).expect(200);
    const retry = await request(app.server).patch('/api/v1/posts/to-edit').set(auth()).set('Idempotency-Key', k).send(edit).expect(200);
    assert.deepEqual(retry.body, first.body);
    assert.equal(first.body.version, post.body.version + 1);

    const d = key();
    await request(app.server).delete('/api/v1/posts/to-edit').set(auth()).set('Idempotency-Key', d).expect(204);
    await request(app.server).delete('/api/v1/posts/to-edit').set(auth()).set('Idempotency-Key', d).expect(204);
    await request(app.server).delete('/api/v1/posts/to-edit').set(auth()).expect(404);
  });

  it('frees the key of a write that failed, so a corrected retry is not stuck', async () => {
    const k = key();
    const body = { title: 'Taken slug', slug: 'once-only' };
    await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send(body).expect(409);
    const left = await stack.cluster.primary.query<unknown[]>('SELECT 1 FROM idem.idempotency_keys WHERE idem_key = ?', [k]);
    assert.equal(left.length, 0);
    await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send(body).expect(409);
  });

  it('refuses a malformed key with 400 and writes nothing', async () => {
    await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', 'no spaces allowed').send({ title: 'Bad key', slug: 'bad-key' }).expect(400);
    assert.equal(await rows('bad-key'), 0);
  });

  it('keeps keys apart per user, and forgets them after their expiry', async () => {
    // A second API user, made directly in the database (the editor has no user admin).
    const other = randomBytes(24).toString('hex');
    await stack.cluster.primary.query("INSERT INTO idem.users (email, name, password_hash, role) VALUES ('second@dramble.test', 'Second', 'x', 'editor')");
    await stack.cluster.primary.query("INSERT INTO idem.api_tokens (user_id, name, token_hash) SELECT id, 'tests', ? FROM idem.users WHERE email = 'second@dramble.test'", [createHash('sha256').update(other).digest('hex')]);
    await stack.cluster.sync();
    const k = key();
    await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send({ title: 'Mine', slug: 'mine' }).expect(201);
    const theirs = await request(app.server).post('/api/v1/posts').set(auth(other)).set('Idempotency-Key', k).send({ title: 'Theirs', slug: 'theirs' }).expect(201);
    assert.equal(theirs.body.author, 'Second');

    await stack.cluster.primary.query('UPDATE idem.idempotency_keys SET expires_at = NOW(3) - INTERVAL 1 SECOND WHERE idem_key = ?', [k]);
    await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send({ title: 'Mine again', slug: 'mine-again' }).expect(201);
    assert.equal(await rows('mine-again'), 1);
  });

  it('is known to the new primary after a failover: the retry there replays, with no second row', async () => {
    const k = key();
    const body = { title: 'Before failover', slug: 'before-failover' };
    const first = await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send(body).expect(201);
    await stack.cluster.sync();
    const replica = stack.cluster.replicas[0]!;
    await stack.cluster.primary.kill();
    await replica.query('STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF');
    const publisher = new Redis(stack.redis.url);
    try {
      const text = JSON.stringify({ epoch: 1, primary: { id: 'db-2', host: '127.0.0.1', port: replica.port }, replicas: [] });
      await publisher.set(TOPOLOGY_KEY, text);
      await publisher.publish(TOPOLOGY_CHANNEL, text);
    } finally {
      publisher.disconnect();
    }
    // The app hears the new epoch on the channel (asynchronously), and may answer 503 until it has
    // switched its pool to the new primary: retry with the same key, as a careful client does.
    await eventually(() => (app.db.topology.epoch === 1 ? true : undefined), 'the app to follow epoch 1');
    const retry = (await eventually(async () => {
      const r = await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', k).send(body);
      return r.status === 503 ? undefined : r;
    }, 'the retry to be answered by the new primary'))!;
    assert.equal(retry.status, 201, retry.text);
    assert.equal(retry.body.id, first.body.id);
    assert.equal(app.db.topology.epoch, 1);
    const n = await replica.query<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM idem.content WHERE slug = 'before-failover'");
    assert.equal(Number(n[0]?.n), 1);
  });
});
