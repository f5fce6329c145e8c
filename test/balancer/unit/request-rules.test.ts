// Pure unit tests of the request rules: framing (smuggling) checks, hop-by-hop stripping, retry
// classification and budget, trusted proxy matching, error pages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { framingProblem, responseHeaders, classify, retryable, RetryBudget, TrustedProxies, renderError } from '@dramble/balancer';

describe('request framing', () => {
  it('accepts plain Content-Length or plain chunked', () => {
    assert.equal(framingProblem(['Host', 'x', 'Content-Length', '5']), undefined);
    assert.equal(framingProblem(['Host', 'x', 'Transfer-Encoding', 'chunked']), undefined);
  });
  it('refuses Content-Length together with Transfer-Encoding', () => {
    assert.match(framingProblem(['Content-Length', '5', 'Transfer-Encoding', 'chunked']) ?? '', /both/);
  });
  it('refuses two Content-Length headers, even equal ones', () => {
    assert.match(framingProblem(['Content-Length', '5', 'content-length', '5']) ?? '', /more than one/);
  });
  it('refuses transfer codings other than chunked', () => {
    assert.ok(framingProblem(['Transfer-Encoding', 'gzip, chunked']));
    assert.ok(framingProblem(['Transfer-Encoding', 'xchunked']));
    assert.ok(framingProblem(['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']));
  });
  it('refuses two Host headers', () => {
    assert.match(framingProblem(['Host', 'a', 'Host', 'b']) ?? '', /Host/);
  });
  it('refuses non-numeric lengths', () => {
    assert.ok(framingProblem(['Content-Length', '+5']));
    assert.ok(framingProblem(['Content-Length', '5, 5']));
  });
});

describe('hop-by-hop headers', () => {
  it('drops the standard ones and every header Connection names', () => {
    const fields = { connection: 'keep-alive, X-Secret, x-other', 'keep-alive': 'timeout=5', 'x-secret': '1', 'x-other': '2', te: 'trailers', upgrade: 'h2c', 'x-keep': 'yes', 'transfer-encoding': 'chunked' };
    const out = responseHeaders(Object.entries(fields).flat().map((s) => Buffer.from(s, 'latin1')));
    assert.deepEqual(out, { 'x-keep': 'yes' });
  });
  it('reads a backend\'s raw response headers the same way, keeping repeated fields apart', () => {
    const raw = ['Content-Type', 'text/html', 'Connection', 'keep-alive, X-Internal', 'Keep-Alive', 'timeout=5', 'X-Internal', 'secret', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Transfer-Encoding', 'chunked', 'Vary', 'Accept-Encoding'].map((s) => Buffer.from(s, 'latin1'));
    assert.deepEqual(responseHeaders(raw), { 'content-type': 'text/html', 'set-cookie': ['a=1', 'b=2'], vary: 'Accept-Encoding' });
    const plain = ['Connection', 'keep-alive', 'X-Served', 'pi-1'].map((s) => Buffer.from(s));
    assert.deepEqual(responseHeaders(plain), { 'x-served': 'pi-1' });
  });
});

describe('retry classification', () => {
  const err = (code: string): Error => Object.assign(new Error(code), { code });
  it('a refused connect never reached the backend: retried even for POST', () => {
    const f = classify(err('ECONNREFUSED'));
    assert.equal(f.neverSent, true);
    assert.equal(retryable(f, 'POST', false), true);
  });
  it('a reset after sending is retried for GET, never for POST', () => {
    const f = classify(err('ECONNRESET'));
    assert.equal(retryable(f, 'GET', false), true);
    assert.equal(retryable(f, 'POST', false), false);
  });
  it('a request whose body started streaming is never retried', () => {
    assert.equal(retryable(classify(err('ECONNRESET')), 'PUT', true), false);
  });
  it('a response-header timeout is a 504', () => {
    assert.equal(classify(err('UND_ERR_HEADERS_TIMEOUT')).status, 504);
  });
});

describe('retry budget', () => {
  it('allows the floor, then a percentage of recent requests', () => {
    const b = new RetryBudget(10, 2);
    assert.equal(b.tryRetry(0), true);
    assert.equal(b.tryRetry(0), true);
    assert.equal(b.tryRetry(0), false, 'floor spent and no traffic');
    for (let i = 0; i < 100; i++) b.recordRequest(1);
    let allowed = 0;
    while (b.tryRetry(2)) allowed++;
    assert.equal(allowed, 10);
  });
  it('forgets requests and retries older than the window', () => {
    const b = new RetryBudget(0, 1, 10_000);
    assert.equal(b.tryRetry(0), true);
    assert.equal(b.tryRetry(5000), false);
    assert.equal(b.tryRetry(11_000), true);
  });
});

describe('trusted proxies', () => {
  it('matches CIDRs and single addresses, IPv4-mapped too', () => {
    const t = new TrustedProxies(['10.0.0.0/8', '192.168.1.5', '::1']);
    assert.equal(t.has('10.1.2.3'), true);
    assert.equal(t.has('::ffff:10.1.2.3'), true);
    assert.equal(t.has('192.168.1.5'), true);
    assert.equal(t.has('192.168.1.6'), false);
    assert.equal(t.has('::1'), true);
    assert.equal(new TrustedProxies([]).has('127.0.0.1'), false);
  });
});

describe('error pages', () => {
  it('JSON when the client prefers it, HTML otherwise', () => {
    assert.match(renderError(502, 'application/json').headers['content-type'] ?? '', /json/);
    assert.equal(JSON.parse(renderError(504, 'application/json').body).status, 504);
    assert.match(renderError(503, 'text/html,application/json').body, /<h1>503 Service Unavailable<\/h1>/);
    assert.match(renderError(503, undefined, { retryAfterSeconds: 5 }).headers['retry-after'] ?? '', /^5$/);
  });
});
