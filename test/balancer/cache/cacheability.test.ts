// Which requests use the cache and which responses may be stored, for how long.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { requestVerdict, responseVerdict, freshness, usableOnError, cookieNames } from '../../../services/balancer/src/cache/cacheability.js';

const policy = { defaultStaleIfErrorSeconds: 300, heuristicMaxSeconds: 300 };

describe('request cacheability', () => {
  it('uses the cache for anonymous GET and HEAD only', () => {
    assert.deepEqual(requestVerdict({ method: 'GET', headers: {} }, []), { cacheable: true });
    assert.deepEqual(requestVerdict({ method: 'HEAD', headers: { cookie: 'theme=dark' } }, ['sid']), { cacheable: true });
    assert.deepEqual(requestVerdict({ method: 'POST', headers: {} }, []), { cacheable: false, reason: 'method' });
    assert.deepEqual(requestVerdict({ method: 'GET', headers: { authorization: 'Basic x' } }, []), { cacheable: false, reason: 'authorization' });
    assert.deepEqual(requestVerdict({ method: 'GET', headers: { cookie: 'a=1; SESS=xyz' } }, ['SESS']), { cacheable: false, reason: 'session-cookie' });
    assert.deepEqual(requestVerdict({ method: 'GET', headers: { cookie: 'xSESS=1' } }, ['SESS']), { cacheable: true }, 'names match exactly');
    assert.deepEqual(cookieNames('a=1; b ; c=x=y'), ['a', 'b', 'c']);
  });
});

describe('response storability', () => {
  it('needs an explicit lifetime, s-maxage winning over max-age, minus the Age already spent', () => {
    const v = responseVerdict({ status: 200, headers: { 'cache-control': 'max-age=600, s-maxage=60', age: '10' } }, policy);
    assert.ok(v.storable);
    assert.equal(v.freshMs, 50_000);
    assert.equal(v.ageMs, 10_000);
    // Changed with RFC 9111 §5.2.2.10: s-maxage implies proxy-revalidate, so the configured default does not apply.
    assert.equal(v.staleIfErrorMs, 0, 's-maxage switches the configured stale-if-error off');
    const plain = responseVerdict({ status: 200, headers: { 'cache-control': 'max-age=600' } }, policy);
    assert.ok(plain.storable && plain.staleIfErrorMs === 300_000, 'the configured stale-if-error applies to max-age');
    assert.deepEqual(responseVerdict({ status: 200, headers: {} }, policy), { storable: false, reason: 'no-max-age' });
  });

  it('refuses what must not be shared', () => {
    const cases: [number, Record<string, string>, string][] = [
      [200, { 'cache-control': 'private, max-age=60' }, 'private'],
      [200, { 'cache-control': 'no-store, max-age=60' }, 'no-store'],
      [200, { 'cache-control': 'no-cache, max-age=60' }, 'no-cache'],
      [200, { 'cache-control': 'max-age=60', 'set-cookie': 'a=b' }, 'set-cookie'],
      [200, { 'cache-control': 'max-age=60', vary: 'Accept, *' }, 'vary-star'],
      [206, { 'cache-control': 'max-age=60' }, 'status'],
      [500, { 'cache-control': 'max-age=60' }, 'status'],
      [200, { 'cache-control': 'max-age=60, must-revalidate', age: '100' }, 'expired'],
      [200, { 'cache-control': 'max-age=0' }, 'expired'],
    ];
    for (const [status, headers, reason] of cases) assert.deepEqual(responseVerdict({ status, headers }, policy), { storable: false, reason }, reason);
  });

  it('stores 404 and 301 that carry a lifetime, with normalized Vary names', () => {
    assert.ok(responseVerdict({ status: 404, headers: { 'cache-control': 'max-age=5' } }, policy).storable);
    const v = responseVerdict({ status: 301, headers: { 'cache-control': 'max-age=5', vary: 'Accept-Language, accept-encoding' } }, policy);
    assert.ok(v.storable && v.varyNames.join() === 'accept-encoding,accept-language');
  });

  it('keys compressed bodies by Accept-Encoding even when the backend forgot Vary', () => {
    const v = responseVerdict({ status: 200, headers: { 'cache-control': 'max-age=5', 'content-encoding': 'gzip', vary: 'Cookie' } }, policy);
    assert.ok(v.storable);
    assert.deepEqual(v.varyNames, ['accept-encoding', 'cookie']);
  });

  it('lets must-revalidate switch off the default stale-if-error but not an explicit one', () => {
    const strict = responseVerdict({ status: 200, headers: { 'cache-control': 'max-age=5, must-revalidate' } }, policy);
    assert.ok(strict.storable && strict.staleIfErrorMs === 0);
    const explicit = responseVerdict({ status: 200, headers: { 'cache-control': 'max-age=5, proxy-revalidate, stale-if-error=20' } }, policy);
    assert.ok(explicit.storable && explicit.staleIfErrorMs === 20_000);
  });

  it('keeps an already stale response only when the origin allows stale use explicitly', () => {
    const v = responseVerdict({ status: 200, headers: { 'cache-control': 'max-age=0, stale-if-error=60' } }, policy);
    assert.ok(v.storable && v.freshMs === 0 && v.staleIfErrorMs === 60_000);
  });

  it('walks an entry from fresh through stale-while-revalidate to stale', () => {
    const l = { freshMs: 10_000, ageMs: 0, staleWhileRevalidateMs: 5_000, staleIfErrorMs: 60_000 };
    assert.equal(freshness(l, 9_999), 'fresh');
    assert.equal(freshness(l, 10_000), 'stale-while-revalidate');
    assert.equal(freshness(l, 15_000), 'stale');
    assert.ok(usableOnError(l, 69_999));
    assert.ok(!usableOnError(l, 70_000));
  });
});
