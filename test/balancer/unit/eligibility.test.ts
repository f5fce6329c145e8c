// Pure unit tests of which backends may take a request: the panic threshold (Envoy semantics),
// the last healthy backend that passive failures never eject, and which answers count as failures.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inPanic, initialHealth, isLastHealthy, next, selectEligible, statusCountsAsFailure, type EligibilityView, type HealthEvent, type HealthPolicy, type HealthState } from '@dramble/balancer';

const policy: HealthPolicy = { rise: 2, fall: 3, maxFails: 3, failTimeoutMs: 1000, maxEjectMs: 8000, slowStartMs: 0, panicThresholdPercent: 50 };
const healthy = initialHealth(policy);
const ejected: HealthState = { ...healthy, passive: 'ejected', fails: 3, ejections: 1, ejectedUntil: 10_000 };
const halfOpen: HealthState = { ...ejected, passive: 'half-open' };
const down: HealthState = { ...healthy, up: false, checkFails: 3 };

const view = (id: string, health: HealthState, over: Partial<EligibilityView> = {}): EligibilityView => ({ id, health, draining: false, trialInFlight: false, ...over });
const ids = (list: readonly EligibilityView[]): string[] => list.map((b) => b.id);

describe('panic threshold', () => {
  it('is below the share, not at it, and 0 turns it off', () => {
    assert.equal(inPanic(1, 2, 50), false, 'half healthy is not below 50%');
    assert.equal(inPanic(1, 3, 50), true);
    assert.equal(inPanic(0, 1, 50), true);
    assert.equal(inPanic(0, 4, 0), false, '0 = never');
    assert.equal(inPanic(0, 0, 50), false, 'no backend at all is not panic');
    assert.equal(inPanic(3, 4, 100), true);
  });

  it('balances over healthy backends only while enough are healthy', () => {
    const list = [view('a', healthy), view('b', healthy), view('c', ejected)];
    const e = selectEligible(list, undefined, false, 50);
    assert.deepEqual(ids(e.backends), ['a', 'b']);
    assert.equal(e.panic, false);
  });

  it('below the threshold balances over every backend in service, ejected and down ones too', () => {
    const list = [view('a', healthy), view('b', ejected), view('c', down), view('d', ejected, { draining: true })];
    // 1 healthy of 3 in service (the draining one does not count) = 33% < 50%.
    const e = selectEligible(list, undefined, false, 50);
    assert.equal(e.panic, true);
    assert.equal(e.trial, false);
    assert.deepEqual(ids(e.backends), ['a', 'b', 'c'], 'never a draining backend');
  });

  it('in panic still skips the backends this request already tried, but counts them for the share', () => {
    const list = [view('a', healthy), view('b', ejected), view('c', ejected)];
    const e = selectEligible(list, new Set(['a']), false, 50);
    assert.equal(e.panic, true);
    assert.deepEqual(ids(e.backends), ['b', 'c']);
  });

  it('with the threshold off, no healthy backend means half-open trials or nothing (the old behaviour)', () => {
    const trial = selectEligible([view('a', halfOpen), view('b', ejected)], undefined, false, 0);
    assert.deepEqual(ids(trial.backends), ['a']);
    assert.equal(trial.trial, true);
    const none = selectEligible([view('a', halfOpen, { trialInFlight: true }), view('b', ejected)], undefined, false, 0);
    assert.deepEqual(ids(none.backends), []);
    assert.equal(none.panic, false);
  });

  it('offers a half-open trial beside healthy backends only when allowed', () => {
    const list = [view('a', healthy), view('b', healthy), view('c', halfOpen)];
    assert.deepEqual(ids(selectEligible(list, undefined, false, 50).backends), ['a', 'b']);
    const e = selectEligible(list, undefined, true, 50);
    assert.deepEqual(ids(e.backends), ['c']);
    assert.equal(e.trial, true);
  });
});

describe('the last healthy backend is never ejected', () => {
  const fail = (now: number, lastHealthy: boolean): HealthEvent => ({ type: 'request-fail', now, lastHealthy });
  const run = (s: HealthState, events: HealthEvent[]): HealthState => events.reduce((st, e) => next(st, e, policy), s);

  it('counts its failures but keeps it closed while it is the only healthy one', () => {
    const s = run(healthy, [fail(1, true), fail(2, true), fail(3, true), fail(4, true)]);
    assert.equal(s.passive, 'closed');
    assert.equal(s.fails, 4);
    assert.equal(s.ejections, 0);
  });

  it('ejects at the next failure once another backend is healthy again', () => {
    const s = run(healthy, [fail(1, true), fail(2, true), fail(3, true), fail(4, false)]);
    assert.equal(s.passive, 'ejected');
    assert.equal(s.ejections, 1);
  });

  it('a success resets the count as before', () => {
    const s = run(healthy, [fail(1, true), fail(2, true), fail(3, true), { type: 'request-ok', now: 4 }, fail(5, false)]);
    assert.equal(s.passive, 'closed');
    assert.equal(s.fails, 1);
  });

  it('a failed half-open trial still re-ejects (it was not healthy, the count does not change)', () => {
    const s = next(halfOpen, fail(20_000, true), policy);
    assert.equal(s.passive, 'ejected');
  });

  it('knows which backend is the last healthy one in service', () => {
    const a = view('a', healthy);
    const b = view('b', ejected);
    const c = view('c', healthy, { draining: true });
    assert.equal(isLastHealthy([a, b, c], a), true, 'a draining backend does not take over');
    assert.equal(isLastHealthy([a, b, view('d', healthy)], a), false);
    assert.equal(isLastHealthy([a], a), true);
  });
});

describe('which backend answers count as failures', () => {
  const raw = (headers: Record<string, string>): Buffer[] => Object.entries(headers).flatMap(([k, v]) => [Buffer.from(k), Buffer.from(v)]);

  it('none by default', () => {
    for (const status of [500, 502, 503, 504]) assert.equal(statusCountsAsFailure(status, raw({}), []), false);
  });

  it('only the listed statuses', () => {
    assert.equal(statusCountsAsFailure(502, raw({}), [502, 503]), true);
    assert.equal(statusCountsAsFailure(500, raw({}), [502, 503]), false);
    assert.equal(statusCountsAsFailure(200, raw({}), [502, 503]), false);
  });

  it('never a 503 that carries Retry-After, whatever its case', () => {
    assert.equal(statusCountsAsFailure(503, raw({ 'Content-Length': '0' }), [503]), true);
    assert.equal(statusCountsAsFailure(503, raw({ 'Retry-After': '2' }), [503]), false);
    assert.equal(statusCountsAsFailure(503, raw({ 'content-type': 'text/plain', 'retry-after': '5' }), [503]), false);
    // Retry-After on a 502 is not the app's "come back later".
    assert.equal(statusCountsAsFailure(502, raw({ 'retry-after': '5' }), [502]), true);
  });
});
