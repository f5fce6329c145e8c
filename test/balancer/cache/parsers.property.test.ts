// Property tests: the Cache-Control and Age parsers never throw on any input, and on inputs built
// from the RFC 9111 grammar they read exactly what was written (first occurrence wins,
// delta-seconds only in the token form, field-name lists from quoted strings).
// fast-check is not in node_modules (the brief assumed it was), so inputs come from a small
// seeded generator instead; a failure names its seed and input, so it can be replayed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DELTA_SECONDS, parseCacheControl, type CacheControl } from '../../../services/balancer/src/cache/cache-control.js';
import { parseAge } from '../../../services/balancer/src/cache/freshness.js';

/** mulberry32: small, seeded, good enough to explore a grammar. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly r: () => number) {}
  int(max: number): number {
    return Math.floor(this.r() * (max + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length - 1)]!;
  }
  /** Any text, biased towards the characters the grammar cares about. */
  junk(max = 24): string {
    const special = '=",\\ \t;-0123456789aZ';
    let s = '';
    for (let i = this.int(max); i > 0; i--) s += this.r() < 0.5 ? this.pick([...special]) : String.fromCodePoint(this.int(this.r() < 0.9 ? 0x7f : 0xd7ff));
    return s;
  }
  token(): string {
    const chars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let s = '';
    for (let i = 1 + this.int(7); i > 0; i--) s += chars[this.int(chars.length - 1)];
    return s;
  }
  digits(): string {
    return this.r() < 0.8 ? String(this.int(100_000)) : this.pick(['0', '007', '2147483648', '99999999999999999999']);
  }
  ows(): string {
    return this.pick(['', ' ', '\t', '  ']);
  }
}

function forSeeds(runs: number, check: (g: Gen) => string): void {
  for (let seed = 1; seed <= runs; seed++) {
    const g = new Gen(rng(seed));
    let input = '';
    try {
      input = check(g);
    } catch (err) {
      throw new Error(`seed ${seed} (${JSON.stringify(input)}): ${(err as Error).message}`);
    }
  }
}

const expectDelta = (d: string): number => Math.min(Number(d), MAX_DELTA_SECONDS);
const DELTA = { 'max-age': 'maxAge', 's-maxage': 'sMaxage', 'stale-while-revalidate': 'staleWhileRevalidate', 'stale-if-error': 'staleIfError', 'min-fresh': 'minFresh' } as const;
const FLAG = { 'no-store': 'noStore', public: 'public', 'must-revalidate': 'mustRevalidate', 'proxy-revalidate': 'proxyRevalidate', 'no-transform': 'noTransform', 'must-understand': 'mustUnderstand', 'only-if-cached': 'onlyIfCached' } as const;
type Written = { name: string; text: string; value?: number; invalid?: boolean; fields?: string[] };

function directive(g: Gen): Written {
  switch (g.int(4)) {
    case 0: {
      const name = g.pick(Object.keys(DELTA));
      const d = g.digits();
      return { name, text: `${g.r() < 0.3 ? name.toUpperCase() : name}=${d}`, value: expectDelta(d) };
    }
    case 1: {
      const name = g.pick(Object.keys(DELTA));
      return { name, text: `${name}=${g.pick([`"${g.digits()}"`, '-1', '1.5', 'abc', ''])}`, invalid: true };
    }
    case 2: {
      const name = g.pick(Object.keys(FLAG));
      return { name, text: name };
    }
    case 3: {
      const name = g.pick(['no-cache', 'private']);
      const fields = Array.from({ length: 1 + g.int(2) }, () => g.token());
      return { name, text: `${name}="${fields.join(', ')}"`, fields: fields.map((f) => f.toLowerCase()) };
    }
    default: {
      const name = `x-${g.token()}`;
      const v = g.pick([undefined, g.token(), `"${g.junk(6).replace(/["\\]/g, '')}"`]);
      return { name, text: v === undefined ? name : `${name}=${v}` };
    }
  }
}

describe('Cache-Control parser properties (RFC 9111 §5.2)', () => {
  it('never throws, whatever the input', () => {
    forSeeds(3000, (g) => {
      const input = g.r() < 0.2 ? [g.junk(), g.junk()] : g.junk(60);
      parseCacheControl(input);
      return String(input);
    });
  });

  it('reads a grammatical list exactly: first occurrence wins, invalid values are NaN, flags and field names as written', () => {
    forSeeds(2000, (g) => {
      const list = Array.from({ length: g.int(8) }, () => directive(g));
      const text = list.map((d) => `${g.ows()}${d.text}${g.ows()}`).join(',');
      const cc: CacheControl = parseCacheControl(text);
      for (const [name, field] of Object.entries(DELTA)) {
        const first = list.find((d) => d.name === name && (d.value !== undefined || d.invalid));
        const got = cc[field];
        if (!first) assert.equal(got, undefined, `${name} absent`);
        else if (first.invalid) assert.ok(Number.isNaN(got), `${name} invalid`);
        else assert.equal(got, first.value, name);
      }
      for (const [name, field] of Object.entries(FLAG)) assert.equal(cc[field], list.some((d) => d.name === name), name);
      assert.deepEqual(cc.noCacheFields ?? [], list.filter((d) => d.name === 'no-cache').flatMap((d) => d.fields ?? []));
      assert.deepEqual(cc.privateFields ?? [], list.filter((d) => d.name === 'private').flatMap((d) => d.fields ?? []));
      return text;
    });
  });
});

describe('Age parser properties (RFC 9111 §5.1)', () => {
  it('never throws and is always an integer from 0 to 2^31', () => {
    forSeeds(3000, (g) => {
      const input = g.r() < 0.2 ? [g.junk(), g.junk()] : g.junk();
      const age = parseAge(input);
      assert.ok(Number.isInteger(age) && age >= 0 && age <= MAX_DELTA_SECONDS, `got ${age}`);
      return String(input);
    });
  });

  it('reads delta-seconds (the first of several), and ignores anything else', () => {
    forSeeds(1000, (g) => {
      const d = g.digits();
      const text = g.r() < 0.5 ? `${g.ows()}${d}${g.ows()}` : `${d}, ${g.digits()}`;
      assert.equal(parseAge(text), expectDelta(d));
      assert.equal(parseAge([d, '5']), expectDelta(d));
      return text;
    });
    for (const bad of ['-1', '1.5', 'abc', '7200a', 'a7200', '"10"', '']) assert.equal(parseAge(bad), 0, bad);
  });
});
