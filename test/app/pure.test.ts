// Pure cores of the app, without sockets: escaping, Markdown sanitizing, cache-tag rules, topology rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { delayAfter } from '../../services/app/src/auth/login-limiter.js';
import { writeRefusalReason } from '../../services/app/src/db/write-refusal.js';
import { DatabaseUnavailableError, PrimaryUnavailableError, TopologyUnknownError, WriteOutcomeUnknownError } from '../../services/app/src/db/errors.js';
import { affectedTags, cacheableRoute, computeSecurityHeaders, declaredHosts, hostVerdict, html, parseAuthority, notModified, pageKey, parseTopology, raw, renderMarkdown, shouldApply, hashPassword, verifyPassword } from '@dramble/app';

describe('html`` escapes every interpolation unless it is marked safe', () => {
  it('escapes text, attributes and arrays, and keeps SafeHtml as is', () => {
    const evil = `<script>alert("x")</script>' onload='x`;
    const out = html`<p title="${evil}">${evil}</p>${[html`<b>${'<i>'}</b>`, '&']}${raw('<hr>')}${null}${undefined}${false}`.value;
    assert.equal(
      out,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;x">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;x</p><b>&lt;i&gt;</b>&amp;<hr>',
    );
  });
});

describe('Markdown is rendered and sanitized', () => {
  it('keeps formatting, tables and links, drops scripts, handlers and javascript: URLs', async () => {
    const out = await renderMarkdown('**bold** [ok](https://example.com) [bad](javascript:alert(1))\n\n<script>x()</script><img src="https://e.x/a.png" onerror="x()"><div style="color:red" onclick="x()">d</div>\n\n| a |\n| - |\n| 1 |');
    assert.match(out, /<strong>bold<\/strong>/);
    assert.match(out, /<a href="https:\/\/example.com" rel="noopener nofollow">ok<\/a>/);
    assert.match(out, /<table>/);
    assert.doesNotMatch(out, /script|onerror|onclick|javascript:|style=/);
    assert.match(out, /<img src="https:\/\/e.x\/a.png" \/>/);
  });
});

describe('an edit invalidates exactly the pages that show the content', () => {
  const post = { kind: 'post' as const, slug: 'p', tags: ['a', 'b'], status: 'published' as const };
  it('covers the post, home, feed, sitemap and every old and new tag', () => {
    assert.deepEqual(affectedTags(post, { ...post, slug: 'q', tags: ['b', 'c'] }), ['feed', 'home', 'post:p', 'post:q', 'sitemap', 'tag:a', 'tag:b', 'tag:c']);
  });
  it('covers only the page itself and the sitemap for a page', () => {
    assert.deepEqual(affectedTags(null, { kind: 'page', slug: 'about', tags: [], status: 'published' }), ['page:about', 'sitemap']);
  });
  it('covers nothing for drafts, and the old listing when unpublished', () => {
    assert.deepEqual(affectedTags({ ...post, status: 'draft' }, { ...post, status: 'draft' }), []);
    assert.deepEqual(affectedTags(post, { ...post, status: 'draft' }), ['feed', 'home', 'post:p', 'sitemap', 'tag:a', 'tag:b']);
  });
});

describe('the page-cache fast path takes canonical public URLs only', () => {
  it('maps them to the cache keys the site routes store pages under, and to their route labels', () => {
    assert.deepEqual(cacheableRoute('/'), { key: pageKey.home(1), route: '/' });
    assert.deepEqual(cacheableRoute('/posts/the-hardware'), { key: pageKey.content('post', 'the-hardware'), route: '/posts/:slug' });
    assert.deepEqual(cacheableRoute('/pages/about'), { key: pageKey.content('page', 'about'), route: '/pages/:slug' });
    assert.deepEqual(cacheableRoute('/tags/cluster'), { key: pageKey.tag('cluster', 1), route: '/tags/:tag' });
    assert.deepEqual(cacheableRoute('/feed.xml'), { key: pageKey.feed, route: '/feed.xml' });
    assert.deepEqual(cacheableRoute('/sitemap.xml'), { key: pageKey.sitemap, route: '/sitemap.xml' });
    assert.equal(pageKey.home(2), '/?page=2');
  });
  it('leaves queries, other spellings of a page and every other URL to the express routes', () => {
    const urls = ['/?page=2', '/?utm=x', '/posts/the-hardware/', '/Posts/the-hardware', '/posts/The-Hardware', '/posts/the%2Dhardware', '/posts/a?x=1', '/posts/', '/posts/a/b',
      `/posts/${'a'.repeat(101)}`, `/tags/${'a'.repeat(41)}`, '/feed.xml?x=1', '//posts/a', '/editor', '/login', '/cluster', '/static/site.css', '/api/v1/content', '/robots.txt', '*'];
    for (const url of urls) assert.equal(cacheableRoute(url), undefined, url);
  });
});

describe('the login wait after repeated failures of one account from one address', () => {
  it('is free for the first failures, then doubles up to the cap', () => {
    const limits = { perIpPerMinute: 30, freeFailures: 3, firstDelaySeconds: 2, maxDelaySeconds: 60 };
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => delayAfter(n, limits)), [0, 0, 2, 4, 8, 16, 32, 60, 60]);
  });
});

describe('which Host values the app serves', () => {
  it('parses host[:port] as RFC 3986 writes an authority, normalised', () => {
    assert.deepEqual(parseAuthority('Example.ORG.:8080'), { host: 'example.org', port: 8080 });
    assert.deepEqual(parseAuthority('[::1]:8080'), { host: '[::1]', port: 8080 });
    assert.deepEqual(parseAuthority('127.0.0.1'), { host: '127.0.0.1' });
    assert.deepEqual(parseAuthority('example.org:'), { host: 'example.org' });
  });
  it('refuses what is not an authority: userinfo, a second colon, spaces, an open bracket, a huge name or port', () => {
    for (const bad of ['127.0.0.1:8080:1@evil.example', 'user@example.org', 'a b', '[::1', '[::1]x', '[zz]:80', 'example.org:99999', 'example.org:80x', 'a/b', '', 'x'.repeat(256)]) {
      assert.equal(parseAuthority(bad), undefined, bad);
    }
  });
  it('answers 400 for an invalid Host or X-Forwarded-Host and 421 for one that is not declared', () => {
    const ours = declaredHosts('https://www.example.org', ['localhost']);
    assert.deepEqual(hostVerdict({ host: 'www.example.org:3000' }, ours), { ok: true });
    assert.deepEqual(hostVerdict({ host: 'LOCALHOST' }, ours), { ok: true });
    assert.deepEqual(hostVerdict({}, ours), { ok: true });
    assert.equal(hostVerdict({ host: '127.0.0.1:8080:1@evil.example' }, ours).ok, false);
    assert.equal((hostVerdict({ host: 'a b' }, ours) as { status: number }).status, 400);
    assert.equal((hostVerdict({ host: 'evil.example' }, ours) as { status: number }).status, 421);
    assert.equal((hostVerdict({ host: 'www.example.org', 'x-forwarded-host': 'evil.example' }, ours) as { status: number }).status, 421);
    assert.equal((hostVerdict({ host: 'www.example.org', 'x-forwarded-host': 'www.example.org, [::1' }, ours) as { status: number }).status, 400);
  });
});

describe('conditional GETs of a cached page', () => {
  const etag = '"abc"';
  it('are answered 304 when If-None-Match names the ETag, weakly or in a list, or is *', () => {
    for (const inm of ['"abc"', 'W/"abc"', '"x", "abc"', '"x",W/"abc"', '*']) assert.equal(notModified({ 'if-none-match': inm }, etag), true, inm);
  });
  it('are not when it names another, when the client asks for no-cache, or with If-Modified-Since alone', () => {
    assert.equal(notModified({}, etag), false);
    assert.equal(notModified({ 'if-none-match': '"abd"' }, etag), false);
    assert.equal(notModified({ 'if-none-match': '"abc"', 'cache-control': 'max-age=0, no-cache' }, etag), false);
    assert.equal(notModified({ 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' }, etag), false);
  });
});

describe('security headers', () => {
  it('are worked out once from helmet: a strict CSP, nosniff, no HSTS (the balancer sets it)', () => {
    const h = new Map(computeSecurityHeaders().map(([k, v]) => [k.toLowerCase(), v]));
    assert.match(h.get('content-security-policy')!, /default-src 'none'.*frame-ancestors 'none'/);
    assert.equal(h.get('x-content-type-options'), 'nosniff');
    assert.equal(h.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(h.has('strict-transport-security'), false);
    assert.equal(h.has('cross-origin-embedder-policy'), false);
  });
});

describe('the published topology', () => {
  const t = (epoch: number) => ({ epoch, primary: { id: 'db-1', host: '10.0.0.1', port: 3306 }, replicas: [{ id: 'db-2', host: '10.0.0.2', port: 3306, lagSeconds: 0.5 }] });
  it('parses the contract and rejects anything else', () => {
    assert.deepEqual(parseTopology(JSON.stringify(t(3))), t(3));
    assert.deepEqual(parseTopology('{"epoch":4,"primary":null,"replicas":[]}'), { epoch: 4, primary: null, replicas: [] });
    assert.equal(parseTopology('not json'), undefined);
    assert.equal(parseTopology('{"epoch":"1","primary":null}'), undefined);
    assert.equal(parseTopology('{"epoch":1,"primary":{"id":"x","host":"","port":1}}'), undefined);
  });
  it('is followed only to a strictly newer epoch', () => {
    assert.equal(shouldApply(undefined, t(0)), true);
    assert.equal(shouldApply(t(5), t(6)), true);
    assert.equal(shouldApply(t(5), t(5)), false);
    assert.equal(shouldApply(t(5), t(4)), false);
  });
});

describe('password hashes', () => {
  it('verify the right password only, with a fresh salt each time', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$16384\$8\$1\$/);
    assert.equal(await verifyPassword('correct horse battery', a), true);
    assert.equal(await verifyPassword('correct horse batterz', a), false);
    assert.equal(await verifyPassword('x', 'not-a-hash'), false);
  });
});

describe('the migrations the build carries', () => {
  it('are exactly the .sql files in src/db/migrations (run services/app/scripts/embed-migrations.mjs after editing one)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { EMBEDDED_MIGRATIONS } = await import('../../services/app/src/db/migrations/embedded.js');
    const dir = new URL('../../services/app/src/db/migrations/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
    assert.deepEqual(EMBEDDED_MIGRATIONS, files.map((file) => ({ file, sql: readFileSync(new URL(file, dir), 'utf8') })));
  });
});

describe('a refused write is counted under the reason that stopped it', () => {
  const mysqlError = (code: string): Error => Object.assign(new Error(code), { code });
  it('tells an unanswered COMMIT, Redis silence, a timeout and a missing primary apart, and ignores other errors', () => {
    assert.equal(writeRefusalReason(new WriteOutcomeUnknownError('db-1', mysqlError('PROTOCOL_SEQUENCE_TIMEOUT'))), 'outcome-unknown');
    assert.equal(writeRefusalReason(new TopologyUnknownError(12_000, 10_000)), 'redis-silent');
    assert.equal(writeRefusalReason(new TopologyUnknownError(null, 10_000)), 'redis-silent');
    assert.equal(writeRefusalReason(new PrimaryUnavailableError('db-1', mysqlError('PROTOCOL_SEQUENCE_TIMEOUT'))), 'timeout');
    assert.equal(writeRefusalReason(new PrimaryUnavailableError('db-1', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }))), 'timeout');
    assert.equal(writeRefusalReason(new PrimaryUnavailableError('db-1', mysqlError('ECONNREFUSED'))), 'no-primary');
    assert.equal(writeRefusalReason(new PrimaryUnavailableError(null)), 'no-primary');
    assert.equal(writeRefusalReason(new DatabaseUnavailableError()), null);
    assert.equal(writeRefusalReason(new Error('duplicate entry')), null);
  });
});
