// Pure cores of the app, without sockets: escaping, Markdown sanitizing, cache-tag rules, topology rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { affectedTags, html, parseTopology, raw, renderMarkdown, shouldApply, hashPassword, verifyPassword } from '@dramble/app';

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
