// The pure parsers under freshness and Range: HTTP-date's three forms (RFC 9110 §5.6.7) and
// byte ranges a client may send (RFC 9110 §14), including hostile ones.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseHttpDate } from '../../../services/balancer/src/cache/http-date.js';
import { rangeAnswer } from '../../../services/balancer/src/cache/range.js';

describe('HTTP-date parsing (RFC 9110 §5.6.7)', () => {
  it('reads IMF-fixdate, RFC 850 and asctime alike, and nothing else', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), t);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), t);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), t);
    for (const bad of ['0', '-1', 'yesterday', '2024-01-01T00:00:00Z', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 PST', '', 'x'.repeat(1000)]) {
      assert.ok(Number.isNaN(parseHttpDate(bad)), bad);
    }
  });
});

describe('Range answers from a stored body (RFC 9110 §14)', () => {
  it('serves one byte range, clamps its end, and 416s a range past the end', () => {
    assert.deepEqual(rangeAnswer('bytes=0-0', 10), { kind: 'partial', start: 0, end: 0 });
    assert.deepEqual(rangeAnswer('bytes=-100', 10), { kind: 'partial', start: 0, end: 9 });
    assert.deepEqual(rangeAnswer('bytes=3-999999999999999999999999', 10), { kind: 'partial', start: 3, end: 9 });
    assert.deepEqual(rangeAnswer('bytes=10-', 10), { kind: 'unsatisfiable' });
    assert.deepEqual(rangeAnswer('bytes=-0', 10), { kind: 'unsatisfiable' });
  });

  it('ignores what it does not serve: lists, overlaps, junk, other units, huge headers', () => {
    for (const r of ['bytes=0-1,1-2', 'bytes=5-1', 'bytes=a-b', 'bytes=', 'bytes=-', 'lines=1-2', `bytes=${'0-1,'.repeat(5000)}0-1`, 'bytes=0--1']) {
      assert.deepEqual(rangeAnswer(r, 10), { kind: 'whole' }, r.slice(0, 40));
    }
  });
});
