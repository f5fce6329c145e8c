// Cache-Tag parsing, the tag index and purges over the store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TagIndex, parseCacheTags } from '../../../services/balancer/src/cache/tag-index.js';
import { CacheStore } from '../../../services/balancer/src/cache/store.js';
import { primaryKey } from '../../../services/balancer/src/cache/key.js';

describe('tag index', () => {
  it('parses Cache-Tag lists and drops duplicates and blanks', () => {
    assert.deepEqual(parseCacheTags('post:a, home,, post:a'), ['post:a', 'home']);
    assert.deepEqual(parseCacheTags(['a', 'b, c']), ['a', 'b', 'c']);
    assert.deepEqual(parseCacheTags(undefined), []);
  });

  it('finds keys by tag and forgets removed keys', () => {
    const ix = new TagIndex();
    ix.add('k1', ['home', 'feed']);
    ix.add('k2', ['feed']);
    assert.deepEqual(ix.keysFor('feed').sort(), ['k1', 'k2']);
    ix.add('k1', ['post:x']); // re-tagged on refresh
    assert.deepEqual(ix.keysFor('feed'), ['k2']);
    assert.deepEqual(ix.keysFor('home'), []);
    ix.remove('k2');
    assert.equal(ix.tagCount, 1);
  });
});

describe('cache store', () => {
  const entry = (host: string, url: string, tags: string[] = [], varyNames: string[] = []) => ({
    primary: primaryKey({ url, headers: { host } }),
    varyNames,
    status: 200,
    headers: {},
    body: Buffer.from(url),
    backend: { id: 'b', name: 'b' },
    storedAt: 0,
    tags,
    freshMs: 1000,
    ageMs: 0,
    staleWhileRevalidateMs: 0,
    staleIfErrorMs: 0,
    noCache: false,
    mustRevalidate: false,
  });

  it('purges by URL, prefix (per host when absolute) and tag', () => {
    const s = new CacheStore(1 << 20);
    s.put(entry('site', '/posts/a', ['post:a']), {});
    s.put(entry('site', '/posts/a?c=1', ['post:a']), {});
    s.put(entry('other:8080', '/posts/b', ['post:b']), {});
    s.put(entry('site', '/about'), {});
    assert.equal(s.purge('url', '/posts/a'), 1);
    assert.equal(s.purge('prefix', 'http://other:8080/posts/'), 1);
    assert.equal(s.purge('tag', 'post:a'), 1);
    assert.equal(s.entries, 1);
    assert.equal(s.purge('url', 'not a url'), 0);
    assert.equal(s.purge('prefix', 'http://site/'), 1, 'the site root as prefix takes everything on that host');
  });

  it('drops old variants when a resource changes what it varies on', () => {
    const s = new CacheStore(1 << 20);
    s.put(entry('site', '/x', [], ['accept-language']), { 'accept-language': 'de' });
    s.put(entry('site', '/x', [], ['accept-language']), { 'accept-language': 'en' });
    assert.equal(s.entries, 2);
    s.put(entry('site', '/x', [], []), {});
    assert.equal(s.entries, 1);
    assert.ok(s.lookup(primaryKey({ url: '/x', headers: { host: 'site' } }), { 'accept-language': 'fr' }));
  });
});
