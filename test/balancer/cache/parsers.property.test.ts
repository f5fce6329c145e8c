// Property tests: the Cache-Control and Age parsers never throw on any input, and on inputs built
// from the RFC 9111 grammar they read exactly what was written (first occurrence wins,
// delta-seconds only in the token form, field-name lists from quoted strings).
// fast-check reports a failing seed and a shrunk counterexample itself; pass them back through
// fc.assert's { seed, path } to replay one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_DELTA_SECONDS, parseCacheControl, type CacheControl } from '../../../services/balancer/src/cache/cache-control.js';
import { parseAge } from '../../../services/balancer/src/cache/freshness.js';

const TCHARS = [..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"];

/** Any text, biased towards the characters the grammar cares about, plus any UTF-16 (lone surrogates too). */
const junk = (maxLength = 24): fc.Arbitrary<string> =>
  fc.string({
    maxLength,
    unit: fc.oneof(fc.constantFrom(...'=",\\ \t;-0123456789aZ'), fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
  });
/** A header: one line, or several field lines (node gives repeated headers as an array). */
const header = (maxLength: number): fc.Arbitrary<string | string[]> => fc.oneof({ weight: 4, arbitrary: junk(maxLength) }, { weight: 1, arbitrary: fc.array(junk(), { maxLength: 4 }) });
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 8 });
/** delta-seconds: mostly small, sometimes leading zeros, the cap's neighbours or far beyond it. */
const digits = fc.oneof(
  { weight: 6, arbitrary: fc.nat(100_000).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('0', '007', '000000000005', '2147483647', '2147483648', '2147483649', '99999999999999999999') },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 25 }) },
);
const ows = fc.constantFrom('', ' ', '\t', '  ');

const expectDelta = (d: string): number => Math.min(Number(d), MAX_DELTA_SECONDS);
const DELTA = { 'max-age': 'maxAge', 's-maxage': 'sMaxage', 'stale-while-revalidate': 'staleWhileRevalidate', 'stale-if-error': 'staleIfError', 'min-fresh': 'minFresh' } as const;
const FLAG = { 'no-store': 'noStore', public: 'public', 'must-revalidate': 'mustRevalidate', 'proxy-revalidate': 'proxyRevalidate', 'no-transform': 'noTransform', 'must-understand': 'mustUnderstand', 'only-if-cached': 'onlyIfCached' } as const;
type Written = { name: string; text: string; value?: number; invalid?: boolean; fields?: string[] };

/** A quoted-string (RFC 9110 §5.6.4) whose content may hold commas, escaped quotes and backslashes. */
const quoted = fc
  .array(fc.oneof(junk(4).map((s) => s.replace(/["\\]/g, '')), fc.constantFrom('\\"', '\\\\', ',', ', max-age=5, no-store')), { maxLength: 4 })
  .map((parts) => `"${parts.join('')}"`);

const directive: fc.Arbitrary<Written> = fc.oneof(
  fc.record({ name: fc.constantFrom(...Object.keys(DELTA)), d: digits, upper: fc.boolean() }).map(({ name, d, upper }) => ({ name, text: `${upper ? name.toUpperCase() : name}=${d}`, value: expectDelta(d) })),
  fc
    .record({ name: fc.constantFrom(...Object.keys(DELTA)), bad: fc.oneof(digits.map((d) => `"${d}"`), fc.constantFrom('-1', '1.5', 'abc', '', '1e3', '0x10', '+5')) })
    .map(({ name, bad }) => ({ name, text: `${name}=${bad}`, invalid: true })),
  fc.constantFrom(...Object.keys(FLAG)).map((name) => ({ name, text: name })),
  fc
    .record({ name: fc.constantFrom('no-cache', 'private'), fields: fc.array(token, { minLength: 1, maxLength: 3 }) })
    .map(({ name, fields }) => ({ name, text: `${name}="${fields.join(', ')}"`, fields: fields.map((f) => f.toLowerCase()) })),
  fc
    .record({ name: token.map((t) => `x-${t}`), v: fc.option(fc.oneof(token, quoted), { nil: undefined }) })
    .map(({ name, v }) => ({ name, text: v === undefined ? name : `${name}=${v}` })),
);
/** A grammatical list: directives with optional whitespace around each, comma-separated. */
const list = fc.array(fc.tuple(ows, directive, ows), { maxLength: 8 }).map((items) => ({ list: items.map(([, d]) => d), text: items.map(([a, d, b]) => `${a}${d.text}${b}`).join(',') }));

describe('Cache-Control parser properties (RFC 9111 §5.2)', () => {
  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(header(60), (input) => {
        parseCacheControl(input);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads a grammatical list exactly: first occurrence wins, invalid values are NaN, flags and field names as written', () => {
    fc.assert(
      fc.property(list, ({ list, text }) => {
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
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Age parser properties (RFC 9111 §5.1)', () => {
  it('never throws and is always an integer from 0 to 2^31', () => {
    fc.assert(
      fc.property(header(24), (input) => {
        const age = parseAge(input);
        assert.ok(Number.isInteger(age) && age >= 0 && age <= MAX_DELTA_SECONDS, `got ${age}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads delta-seconds (the first of several), and ignores anything else', () => {
    fc.assert(
      fc.property(digits, digits, ows, ows, fc.boolean(), (d, other, a, b, alone) => {
        const text = alone ? `${a}${d}${b}` : `${d}, ${other}`;
        assert.equal(parseAge(text), expectDelta(d));
        assert.equal(parseAge([d, '5']), expectDelta(d));
      }),
      { numRuns: 1000 },
    );
    // Anything that is not 1*DIGIT reads as 0. The parser trims with String.prototype.trim, which
    // drops any Unicode white space, not just OWS; \s in the filter is that same set.
    fc.assert(
      fc.property(
        junk().filter((s) => !/^\s*[0-9]+\s*(,|$)/.test(s)),
        (s) => {
          assert.equal(parseAge(s), 0);
        },
      ),
      { numRuns: 1000 },
    );
    for (const bad of ['-1', '1.5', 'abc', '7200a', 'a7200', '"10"', '']) assert.equal(parseAge(bad), 0, bad);
    // Found by fast-check: leading zeros once counted towards the "longer than 10 digits" cap.
    assert.equal(parseAge('000000000005'), 5);
    assert.equal(parseCacheControl('max-age=000000000005').maxAge, 5);
  });
});
