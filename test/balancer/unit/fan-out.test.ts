// The cluster primary's one answer for an admin change every worker made.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeAnswers, type WorkerAnswer } from '../../../services/balancer/src/cluster/fan-out.js';

const answer = (pid: number, status: number, body: unknown): WorkerAnswer => ({ pid, status, contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) });
const parse = (b: string | Buffer): unknown => JSON.parse(b.toString());

describe('mergeAnswers', () => {
  it('sums the purge counts of every worker', () => {
    const m = mergeAnswers([answer(1, 200, { purged: 2 }), answer(2, 200, { purged: 1 })]);
    assert.equal(m.status, 200);
    assert.deepEqual(parse(m.body), { purged: 3, workers: 2 });
  });

  it("passes on the first worker's answer when all agree", () => {
    const m = mergeAnswers([answer(1, 200, { backend: { name: 'pi1', inFlight: 1 } }), answer(2, 200, { backend: { name: 'pi1', inFlight: 0 } })]);
    assert.equal(m.status, 200);
    assert.deepEqual(parse(m.body), { backend: { name: 'pi1', inFlight: 1 } });
    const refused = mergeAnswers([answer(1, 401, { error: 'missing bearer token' }), answer(2, 401, { error: 'missing bearer token' })]);
    assert.equal(refused.status, 401);
  });

  it('says so, with every answer, when the workers disagree', () => {
    const m = mergeAnswers([answer(1, 200, { purged: 1 }), answer(2, 404, { error: 'no backend pi9' })]);
    assert.equal(m.status, 502);
    const body = parse(m.body) as { error: string; workers: Array<{ pid: number; status: number }> };
    assert.match(body.error, /differently/);
    assert.deepEqual(body.workers.map((w) => [w.pid, w.status]), [[1, 200], [2, 404]]);
  });

  it('answers 503 when no worker runs', () => {
    assert.equal(mergeAnswers([]).status, 503);
  });
});
