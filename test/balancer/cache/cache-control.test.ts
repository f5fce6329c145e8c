// Parsing Cache-Control the way RFC 9111 §5.2 asks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCacheControl } from '../../../services/balancer/src/cache/cache-control.js';

describe('Cache-Control parsing', () => {
  it('reads lifetimes and flags, case-insensitively, from one or several header lines', () => {
    const cc = parseCacheControl(['Public, MAX-AGE=60', 's-maxage="30", stale-while-revalidate=5, stale-if-error=600, must-revalidate']);
    assert.equal(cc.maxAge, 60);
    assert.equal(cc.sMaxage, 30);
    assert.equal(cc.staleWhileRevalidate, 5);
    assert.equal(cc.staleIfError, 600);
    assert.ok(cc.public && cc.mustRevalidate);
    assert.ok(!cc.private && !cc.noStore && !cc.noCache);
  });

  it('treats qualified private / no-cache as the whole directive', () => {
    const cc = parseCacheControl('private="set-cookie, x-user", max-age=10, no-cache="x"');
    assert.ok(cc.private);
    assert.ok(cc.noCache);
    assert.equal(cc.maxAge, 10, 'a comma inside quotes does not split directives');
  });

  it('ignores malformed numbers and unknown directives', () => {
    const cc = parseCacheControl('max-age=abc, s-maxage=-1, immutable, ,, max-age');
    assert.equal(cc.maxAge, undefined);
    assert.equal(cc.sMaxage, undefined);
    assert.deepEqual(parseCacheControl(undefined), parseCacheControl(''));
  });
});
