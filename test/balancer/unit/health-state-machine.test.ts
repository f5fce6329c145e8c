// Pure unit tests of the health state machine: active rise/fall, passive ejection with backoff,
// half-open re-admission, slow start.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialHealth, next, isHealthy, healthLabel, slowStartFactor, type HealthEvent, type HealthPolicy, type HealthState } from '@dramble/balancer';

const policy: HealthPolicy = { rise: 2, fall: 3, maxFails: 3, failTimeoutMs: 1000, maxEjectMs: 3000, slowStartMs: 10_000, panicThresholdPercent: 50 };
const run = (s: HealthState, events: HealthEvent[]): HealthState => events.reduce((st, e) => next(st, e, policy), s);
const times = (n: number, e: HealthEvent): HealthEvent[] => Array.from({ length: n }, () => e);

describe('active checks (rise/fall)', () => {
  it('goes down only after `fall` consecutive failures', () => {
    let s = run(initialHealth(policy), times(2, { type: 'check-fail', now: 1 }));
    assert.equal(healthLabel(s), 'healthy');
    s = run(s, [{ type: 'check-ok', now: 2 }, ...times(2, { type: 'check-fail', now: 3 })]);
    assert.equal(healthLabel(s), 'healthy', 'a pass in between resets the count');
    s = run(s, [{ type: 'check-fail', now: 4 }]);
    assert.equal(healthLabel(s), 'down');
    assert.equal(isHealthy(s), false);
  });

  it('comes back only after `rise` consecutive passes, with slow start', () => {
    let s = run(initialHealth(policy), times(3, { type: 'check-fail', now: 1 }));
    s = run(s, [{ type: 'check-ok', now: 100 }]);
    assert.equal(healthLabel(s), 'down');
    s = run(s, [{ type: 'check-ok', now: 200 }]);
    assert.equal(healthLabel(s), 'healthy');
    assert.ok(slowStartFactor(s, 200, policy) < 0.2);
    assert.ok(Math.abs(slowStartFactor(s, 5200, policy) - 0.55) < 0.01);
    assert.equal(slowStartFactor(s, 10_200, policy), 1);
  });
});

describe('passive ejection', () => {
  it('ejects after maxFails consecutive failures; a success in between resets', () => {
    let s = run(initialHealth(policy), [...times(2, { type: 'request-fail', now: 0 }), { type: 'request-ok', now: 0 }, ...times(2, { type: 'request-fail', now: 0 })]);
    assert.equal(healthLabel(s), 'healthy');
    s = run(s, [{ type: 'request-fail', now: 50 }]);
    assert.equal(healthLabel(s), 'ejected');
    assert.equal(s.ejections, 1);
    assert.equal(s.ejectedUntil, 1050);
  });

  it('becomes half-open when the backoff ran out, and a good trial closes it', () => {
    let s = run(initialHealth(policy), times(3, { type: 'request-fail', now: 0 }));
    s = run(s, [{ type: 'tick', now: 999 }]);
    assert.equal(healthLabel(s), 'ejected');
    s = run(s, [{ type: 'tick', now: 1000 }]);
    assert.equal(healthLabel(s), 'half-open');
    s = run(s, [{ type: 'request-ok', now: 1001 }]);
    assert.equal(healthLabel(s), 'healthy');
    assert.equal(s.admittedAt, 1001, 'slow start begins at re-admission');
    assert.equal(s.backoffMs, policy.failTimeoutMs);
  });

  it('doubles the ejection after a failed trial, up to maxEjectMs', () => {
    let s = run(initialHealth(policy), times(3, { type: 'request-fail', now: 0 }));
    s = run(s, [{ type: 'tick', now: 1000 }, { type: 'request-fail', now: 1000 }]);
    assert.equal(healthLabel(s), 'ejected');
    assert.equal(s.ejectedUntil, 3000);
    s = run(s, [{ type: 'tick', now: 3000 }, { type: 'request-fail', now: 3000 }]);
    assert.equal(s.ejectedUntil, 6000, 'capped at maxEjectMs (3000)');
    assert.equal(s.ejections, 3);
  });

  it('a passing active check re-admits a half-open backend without a trial request', () => {
    let s = run(initialHealth(policy), [...times(3, { type: 'request-fail', now: 0 }), { type: 'tick', now: 1000 }]);
    assert.equal(healthLabel(s), 'half-open');
    s = run(s, [{ type: 'check-ok', now: 1001 }]);
    assert.equal(healthLabel(s), 'healthy');
  });

  it('an ejected backend ignores further failures until its backoff ends', () => {
    const s = run(initialHealth(policy), [...times(3, { type: 'request-fail', now: 0 }), ...times(5, { type: 'request-fail', now: 10 })]);
    assert.equal(s.ejections, 1);
    assert.equal(s.ejectedUntil, 1000);
  });
});
