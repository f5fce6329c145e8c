// Pure unit tests of the balancing strategies: no sockets, plain candidate data.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRoundRobin, createLeastOutstanding, createP2cEwma, createConsistentHash, ewmaAt, updateEwma, p2cCost, p2cCheaper, COST_MARGIN, COST_SLACK_MS, type Candidate } from '@dramble/balancer';

const c = (id: string, over: Partial<Candidate> = {}): Candidate => ({ id, weight: 1, inFlight: 0, ewmaMs: 10, ...over });

function counts(picks: Array<Candidate | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of picks) if (p) out[p.id] = (out[p.id] ?? 0) + 1;
  return out;
}

describe('weighted round robin', () => {
  it('rotates through equal backends in turn', () => {
    const rr = createRoundRobin();
    const list = [c('a'), c('b'), c('c')];
    const ids = Array.from({ length: 6 }, () => rr.pick(list, {})?.id);
    assert.deepEqual(ids, ['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('honours weights smoothly (5:1:1 never sends the light ones twice in a row)', () => {
    const rr = createRoundRobin();
    const list = [c('a', { weight: 5 }), c('b'), c('c')];
    const ids = Array.from({ length: 70 }, () => rr.pick(list, {})?.id);
    assert.deepEqual(counts(ids.map((id) => list.find((x) => x.id === id))), { a: 50, b: 10, c: 10 });
    for (let i = 1; i < ids.length; i++) assert.ok(!(ids[i] !== 'a' && ids[i] === ids[i - 1]), 'light backend picked twice in a row');
  });

  it('keeps going when a backend leaves the list', () => {
    const rr = createRoundRobin();
    rr.pick([c('a'), c('b')], {});
    const picks = Array.from({ length: 4 }, () => rr.pick([c('b'), c('c')], {})?.id);
    assert.deepEqual([...new Set(picks)].sort(), ['b', 'c']);
  });
});

describe('least outstanding requests', () => {
  it('chooses the backend with the fewest requests in flight', () => {
    const lo = createLeastOutstanding();
    const list = [c('a', { inFlight: 5 }), c('b', { inFlight: 1 }), c('c', { inFlight: 3 })];
    for (let i = 0; i < 5; i++) assert.equal(lo.pick(list, {})?.id, 'b');
  });

  it('counts in-flight per unit of weight', () => {
    const lo = createLeastOutstanding();
    // a: (4+1)/4 = 1.25, b: (1+1)/1 = 2
    assert.equal(lo.pick([c('a', { inFlight: 4, weight: 4 }), c('b', { inFlight: 1 })], {})?.id, 'a');
  });

  it('spreads ties across backends', () => {
    const lo = createLeastOutstanding();
    const list = [c('a'), c('b'), c('c')];
    assert.equal(Object.keys(counts(Array.from({ length: 9 }, () => lo.pick(list, {})))).length, 3);
  });
});

describe('power of two choices over EWMA latency', () => {
  it('of the two sampled, picks the cheaper one', () => {
    const p2c = createP2cEwma();
    const list = [c('fast', { ewmaMs: 5 }), c('slow', { ewmaMs: 500 })];
    const seq = [0.1, 0.1, 0.9, 0.3];
    let i = 0;
    const random = (): number => seq[i++ % seq.length]!;
    for (let k = 0; k < 4; k++) assert.equal(p2c.pick(list, { random })?.id, 'fast');
  });

  it('sends most traffic to the low-latency backend but keeps probing others', () => {
    const p2c = createP2cEwma();
    const list = [c('a', { ewmaMs: 5 }), c('b', { ewmaMs: 50 }), c('c', { ewmaMs: 50 })];
    const got = counts(Array.from({ length: 3000 }, () => p2c.pick(list, {})));
    assert.ok((got['a'] ?? 0) > 1800, `a got ${got['a']}`);
    assert.ok((got['b'] ?? 0) > 0 && (got['c'] ?? 0) > 0);
  });

  it('penalises in-flight load, not only latency', () => {
    const p2c = createP2cEwma();
    const list = [c('busy', { ewmaMs: 5, inFlight: 20 }), c('idle', { ewmaMs: 10, inFlight: 0 })];
    assert.equal(p2c.pick(list, {})?.id, 'idle');
  });

  it('returns the only candidate', () => {
    assert.equal(createP2cEwma().pick([c('solo')], {})?.id, 'solo');
  });
});

describe('consistent hashing for stickiness', () => {
  const fallback = createRoundRobin();
  const list = ['a', 'b', 'c', 'd'].map((id) => c(id));

  it('sends the same key to the same backend every time', () => {
    const h = createConsistentHash(fallback);
    for (let k = 0; k < 50; k++) {
      const first = h.pick(list, { hashKey: `user-${k}` })?.id;
      for (let i = 0; i < 5; i++) assert.equal(h.pick(list, { hashKey: `user-${k}` })?.id, first);
    }
  });

  it('moves only the keys of a backend that leaves', () => {
    const h = createConsistentHash(fallback);
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
    const before = new Map(keys.map((k) => [k, h.pick(list, { hashKey: k })?.id]));
    const without = list.filter((x) => x.id !== 'c');
    for (const k of keys) {
      const was = before.get(k);
      const now = h.pick(without, { hashKey: k })?.id;
      if (was !== 'c') assert.equal(now, was, `key ${k} moved from ${was} to ${now}`);
    }
  });

  it('spreads keys roughly evenly', () => {
    const h = createConsistentHash(fallback);
    const got = counts(Array.from({ length: 4000 }, (_, i) => h.pick(list, { hashKey: `ip-10.0.${i >> 8}.${i & 255}` })));
    for (const id of ['a', 'b', 'c', 'd']) assert.ok((got[id] ?? 0) > 700 && (got[id] ?? 0) < 1300, `${id}: ${got[id]}`);
  });

  it('falls back to the other strategy without a key', () => {
    const h = createConsistentHash(createRoundRobin());
    assert.equal(Object.keys(counts(Array.from({ length: 8 }, () => h.pick(list, {})))).length, 4);
  });
});

describe('EWMA latency', () => {
  it('jumps to a slower sample at once and decays back with time', () => {
    let e = updateEwma(undefined, 10, 0, 1000);
    assert.equal(e.value, 10);
    e = updateEwma(e, 100, 10, 1000);
    assert.equal(e.value, 100);
    const soon = updateEwma(e, 10, 20, 1000);
    const later = updateEwma(e, 10, 5000, 1000);
    assert.ok(soon.value > 90, `soon ${soon.value}`);
    assert.ok(later.value < 12, `later ${later.value}`);
  });

  it('forgets a slow period while a backend is idle, so p2c over two backends tries it again', () => {
    const slow = updateEwma(undefined, 500, 0, 1000);
    assert.equal(ewmaAt(slow, 0, 1000), 500);
    assert.ok(ewmaAt(slow, 1000, 1000) < 200);
    const fast: Candidate = { id: 'fast', ewmaMs: 5, inFlight: 0, weight: 1 };
    const idleSlow = (now: number): Candidate => ({ id: 'slow', ewmaMs: ewmaAt(slow, now, 1000), inFlight: 0, weight: 1 });
    assert.ok(p2cCost(idleSlow(100)) > p2cCost(fast), 'just after the slow period the fast one wins');
    assert.ok(p2cCost(idleSlow(10_000)) < p2cCost(fast), 'after ten time constants the idle one is tried again');
    assert.equal(ewmaAt(undefined, 5, 1000), 0);
  });
});

describe('power of two choices spreads load over equal backends', () => {
  it('treats costs within the margin as equal and then prefers fewer outstanding requests', () => {
    // 1.2 ms against 3 ms: a first sample that paid for the TCP connect, not a slower backend.
    assert.equal(p2cCheaper(c('a', { ewmaMs: 1.2, inFlight: 3 }), c('b', { ewmaMs: 3, inFlight: 1 })).id, 'b');
    // Cost 60 against 100: within the margin, so the one with fewer requests in flight wins.
    assert.equal(p2cCheaper(c('a', { ewmaMs: 20, inFlight: 2 }), c('b', { ewmaMs: 50, inFlight: 1 })).id, 'b');
  });

  it('a full tie goes to the first of the pair, which p2c drew at random', () => {
    assert.equal(p2cCheaper(c('a', { ewmaMs: 1 }), c('b', { ewmaMs: 2.5 })).id, 'a');
    assert.equal(p2cCheaper(c('b', { ewmaMs: 2.5 }), c('a', { ewmaMs: 1 })).id, 'b');
  });

  it('a backend more than the margin slower still loses', () => {
    const slower = 10 * COST_MARGIN + COST_SLACK_MS + 1;
    assert.equal(p2cCheaper(c('a', { ewmaMs: 10 }), c('b', { ewmaMs: slower })).id, 'a');
    assert.equal(p2cCheaper(c('b', { ewmaMs: slower }), c('a', { ewmaMs: 10 })).id, 'a');
  });

  it('two backends with slightly different latencies share sequential requests about evenly', () => {
    const p2c = createP2cEwma();
    const list = [c('a', { ewmaMs: 0.8 }), c('b', { ewmaMs: 2.4 })];
    const got = counts(Array.from({ length: 2000 }, () => p2c.pick(list, {})));
    assert.ok((got['a'] ?? 0) > 850 && (got['b'] ?? 0) > 850, JSON.stringify(got));
  });

  it('long-lived streams counted as in flight spread evenly over two backends of about the same latency', () => {
    const p2c = createP2cEwma();
    const list = [c('a', { ewmaMs: 10 }), c('b', { ewmaMs: 19 })];
    for (let k = 0; k < 100; k++) p2c.pick(list, {})!.inFlight++;
    const [a, b] = list.map((x) => x.inFlight);
    assert.ok(Math.abs(a! - b!) <= 2, `a ${a} b ${b}`);
  });

  it('streams still favour a clearly faster backend, but not all on it', () => {
    const p2c = createP2cEwma();
    const list = [c('a', { ewmaMs: 1 }), c('b', { ewmaMs: 4 })];
    for (let k = 0; k < 100; k++) p2c.pick(list, {})!.inFlight++;
    const [a, b] = list.map((x) => x.inFlight);
    assert.ok(a! > b! && b! >= 20, `a ${a} b ${b}`);
  });
});
