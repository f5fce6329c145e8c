// A write whose COMMIT goes unanswered: with semi-sync on and the only replica hung (SIGSTOP), the
// primary holds the COMMIT waiting for an acknowledgement. The app must answer 503 within its write
// timeout and must not repeat the write; the client's retry under the same Idempotency-Key then gets
// the first write's response once it has committed, and there is one row, not two. The answer says
// the write may have been saved (API and editor alike), and the writes-refused metric counts it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { AppHandle } from '@dramble/app';
import { startRedis, startReplicationCluster } from '../support/index.js';
import { apiToken, csrfFrom, eventually, login, metricValue, startTestApp, type Stack } from './helpers.js';

const WRITE_TIMEOUT_MS = 3000;
const MARGIN_MS = 2000;

describe('a write whose COMMIT is not answered', () => {
  let stack: Stack;
  let app: AppHandle;
  let token: string;
  const auth = (): Record<string, string> => ({ Authorization: `Bearer ${token}` });

  before(async () => {
    const [cluster, redis] = await Promise.all([startReplicationCluster({ replicas: 1 }), startRedis()]);
    stack = { cluster, redis, destroy: async () => void (await Promise.all([cluster.destroy(), redis.destroy()])) };
    app = await startTestApp(stack, 'unknown', ['--write-timeout-ms', String(WRITE_TIMEOUT_MS)], { failoverWaitMs: 300 });
    token = await apiToken(app);
    // Semi-sync only on the primary's side and its one replica: a commit waits for that replica.
    await cluster.primary.query('SET GLOBAL rpl_semi_sync_master_enabled = ON, GLOBAL rpl_semi_sync_master_timeout = 20000');
    await cluster.replicas[0]!.query('SET GLOBAL rpl_semi_sync_slave_enabled = ON; STOP SLAVE IO_THREAD; START SLAVE IO_THREAD');
    await eventually(async () => {
      const rows = await cluster.primary.query<Array<{ Value: string }>>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'");
      return rows[0]?.Value === '1';
    }, 'the replica to acknowledge commits');
  });
  after(async () => {
    await app?.close();
    await stack?.destroy();
  });

  /**
   * Holds the app's INSERT of `slug` on a duplicate-key lock, so the replica can be stopped after
   * anything the request wrote before (an Idempotency-Key claim) and before the write's COMMIT:
   * the COMMIT is then what waits. Returns the request's answer and how long it took after the release.
   */
  const withUnansweredCommit = async <T>(slug: string, send: () => Promise<T>): Promise<{ res: T; took: number }> => {
    const replica = stack.cluster.replicas[0]!;
    await eventually(async () => {
      const rows = await stack.cluster.primary.query<Array<{ Value: string }>>("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'");
      return rows[0]?.Value === '1';
    }, 'the replica to acknowledge commits');
    const locker = await stack.cluster.primary.connect('unknown');
    await locker.query('START TRANSACTION');
    await locker.query("INSERT INTO content (kind, slug, title, body_md, body_html) VALUES ('post', ?, 'x', '', '')", [slug]);
    const first = send();
    await eventually(async () => {
      const rows = await stack.cluster.primary.query<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'");
      return Number(rows[0]?.n) > 0;
    }, "the app's INSERT to wait on the lock", 5000);
    process.kill(replica.pid, 'SIGSTOP');
    const released = Date.now();
    try {
      await locker.query('ROLLBACK');
      await locker.end();
      const res = await first;
      return { res, took: Date.now() - released };
    } finally {
      process.kill(replica.pid, 'SIGCONT');
    }
  };

  it('answers 503 in time, does not repeat the write, and the retry with the same key replays the write it made', async () => {
    const key = 'commit-unknown-1';
    const body = { title: 'Unknown outcome', slug: 'unknown-outcome' };
    const counted = await metricValue(app, 'dramble_app_writes_refused_total', { reason: 'outcome-unknown' });
    const { res, took } = await withUnansweredCommit('unknown-outcome', () =>
      request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', key).send(body).then((r) => r),
    );
    assert.equal(res.status, 503, res.text);
    assert.ok(Number(res.headers['retry-after']) > 0);
    assert.ok(took < WRITE_TIMEOUT_MS + MARGIN_MS, `answered in ${took} ms`);
    // Not "failing over, cannot be saved": the client must not treat it as refused and send it anew.
    assert.equal(res.body.error, 'outcome unknown');
    assert.match(res.body.message, /outcome is unknown/);
    assert.match(res.body.message, /retry with the same Idempotency-Key/);
    assert.doesNotMatch(res.body.message, /cannot be saved|failing over/);
    assert.equal(await metricValue(app, 'dramble_app_writes_refused_total', { reason: 'outcome-unknown' }), counted + 1);
    // The commit lands once the replica acknowledges it; the retry then replays the first write.
    const retry = (await eventually(async () => {
      const r = await request(app.server).post('/api/v1/posts').set(auth()).set('Idempotency-Key', key).send(body);
      return r.status === 409 ? undefined : r; // 409: the first write is still committing
    }, 'the retry to get an answer'))!;
    assert.equal(retry.status, 201, retry.text);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.equal(retry.body.title, 'Unknown outcome');
    const rows = await stack.cluster.primary.query<Array<{ id: number }>>("SELECT id FROM unknown.content WHERE slug = 'unknown-outcome'");
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.id, retry.body.id);
  });

  it('tells the editor the change may have been saved, keeps the text, and the post is there once the commit lands', async () => {
    const agent = request.agent(app.server);
    const csrf = await login(agent);
    const form = { _csrf: csrf, kind: 'post', title: 'Maybe saved', slug: 'maybe-saved', summary: '', body: 'Typed with care.', tags: '', action: 'save' };
    const { res } = await withUnansweredCommit('maybe-saved', () => agent.post('/editor/new').type('form').send(form).then((r) => r));
    assert.equal(res.status, 503, res.text.slice(0, 500));
    assert.ok(Number(res.headers['retry-after']) > 0);
    const alert = /id="save-alert">([^<]*)</.exec(res.text)?.[1] ?? '';
    assert.match(alert, /may have been saved/);
    assert.match(alert, /Check the editor list or the page before submitting again/);
    assert.doesNotMatch(alert, /Nothing was saved|failing over/);
    // The form comes back with what was typed, so nothing is lost either way.
    assert.match(res.text, /value="Maybe saved"/);
    assert.match(res.text, /Typed with care\./);
    csrfFrom(res.text);
    // Checking, as the page asks: the post appears once the replica acknowledges the commit, once.
    await eventually(async () => /Maybe saved/.test((await agent.get('/editor')).text), 'the post to show in the editor list');
    const rows = await stack.cluster.primary.query<Array<{ id: number }>>("SELECT id FROM unknown.content WHERE slug = 'maybe-saved'");
    assert.equal(rows.length, 1);
  });
});
