// Parsing Cache-Control the way RFC 9111 §5.2 asks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCacheControl } from '../../../services/balancer/src/cache/cache-control.js';

describe('Cache-Control parsing', () => {
  it('reads lifetimes and flags, case-insensitively, from one or several header lines', () => {
    const cc = parseCacheControl(['Public, MAX-AGE=60', 's-maxage=30, stale-while-revalidate=5, stale-if-error=600, must-revalidate']);
    assert.equal(cc.maxAge, 60);
    assert.equal(cc.sMaxage, 30);
    assert.equal(cc.staleWhileRevalidate, 5);
    assert.equal(cc.staleIfError, 600);
    assert.ok(cc.public && cc.mustRevalidate);
    assert.ok(!cc.private && !cc.noStore && !cc.noCache);
  });

  // Changed with RFC 9111 §5.2.2.4/§5.2.2.7: the qualified forms name fields, they are not the whole directive.
  it('reads qualified private / no-cache as lists of field names', () => {
    const cc = parseCacheControl('private="set-cookie, X-User", max-age=10, no-cache="x"');
    assert.ok(!cc.private);
    assert.ok(!cc.noCache);
    assert.deepEqual(cc.privateFields, ['set-cookie', 'x-user']);
    assert.deepEqual(cc.noCacheFields, ['x']);
    assert.equal(cc.maxAge, 10, 'a comma inside quotes does not split directives');
  });

  // Changed with RFC 9111 §4.2.1: a malformed lifetime is kept as NaN (the response counts as stale), not dropped.
  it('marks malformed numbers invalid and ignores unknown directives', () => {
    const cc = parseCacheControl('max-age=abc, s-maxage=-1, immutable, ,, max-age');
    assert.ok(Number.isNaN(cc.maxAge));
    assert.ok(Number.isNaN(cc.sMaxage), 'negative delta-seconds are invalid');
    assert.deepEqual(parseCacheControl(undefined), parseCacheControl(''));
  });
});
