// Cache keys: one resource per host + path + query, one variant per varied header value.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { primaryKey, secondaryKey, normalizeAcceptEncoding } from '../../../services/balancer/src/cache/key.js';

describe('cache keys', () => {
  it('keys on host (case and default port folded) and the full path with query', () => {
    assert.equal(primaryKey({ url: '/a?x=1', headers: { host: 'Site.Example:80' } }).key, 'site.example/a?x=1');
    assert.notEqual(primaryKey({ url: '/a?x=1', headers: { host: 'h' } }).key, primaryKey({ url: '/a?x=2', headers: { host: 'h' } }).key);
    assert.notEqual(primaryKey({ url: '/a', headers: { host: 'h1' } }).key, primaryKey({ url: '/a', headers: { host: 'h2' } }).key);
    assert.equal(primaryKey({ url: 'http://h/a?b', headers: { host: 'h' } }).path, '/a?b', 'absolute-form targets are the same resource');
  });

  it('builds variant keys from the varied headers only, normalizing whitespace', () => {
    const names = ['accept-language'];
    assert.equal(secondaryKey(names, { 'accept-language': 'de, en', cookie: 'x' }), secondaryKey(names, { 'accept-language': 'de,en' }));
    assert.notEqual(secondaryKey(names, { 'accept-language': 'de' }), secondaryKey(names, {}));
    assert.equal(secondaryKey([], { anything: 'x' }), '');
  });

  it('folds Accept-Encoding spellings that accept the same codings', () => {
    assert.equal(normalizeAcceptEncoding('gzip, deflate, br'), normalizeAcceptEncoding('br;q=1.0,deflate , GZIP'));
    assert.equal(normalizeAcceptEncoding('gzip, br;q=0'), 'gzip');
  });
});
