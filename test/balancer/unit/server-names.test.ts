// The Host rules without sockets: what is an authority (RFC 9110 §7.2, RFC 3986 §3.2), which names
// and ports are ours, how an accepted Host is normalised, and that Connection cannot name Host.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectionTokens, parseAuthority, ServerNames } from '@dramble/balancer';

describe('Host values', () => {
  const names = new ServerNames({ names: ['site.example', '*.pi.example', '10.0.0.5'], ports: [8080, 8443], listenHost: '0.0.0.0' });

  it('parses authorities and refuses what is not one', () => {
    assert.deepEqual(parseAuthority('Site.Example:8080'), { name: 'site.example', port: 8080 });
    assert.deepEqual(parseAuthority('[::1]:443'), { name: '[::1]', port: 443 });
    assert.deepEqual(parseAuthority('site.example:'), { name: 'site.example', port: undefined });
    for (const bad of ['127.0.0.1:8080:1@evil.example', 'a@b', 'site.example/x', 'site.example?x', 'x:65536', '', ' site.example', 'site example', '[::1', 'a:b:c', '%zz']) {
      assert.equal(parseAuthority(bad), undefined, bad);
    }
  });

  it('accepts declared names, subdomains of a wildcard, loopback and own ports; normalises them', () => {
    assert.equal(names.check('SITE.example:80', false), 'site.example');
    assert.equal(names.check('site.example:443', true), 'site.example');
    assert.equal(names.check('site.example:443', false), 'site.example:443');
    assert.equal(names.check('site.example:8443', true), 'site.example:8443');
    assert.equal(names.check('a.pi.example', false), 'a.pi.example');
    assert.equal(names.check('10.0.0.5', false), '10.0.0.5');
    assert.equal(names.check('localhost:8080', false), 'localhost:8080');
    assert.equal(names.check('[::1]', false), '[::1]');
    assert.equal(names.check('pi.example', false), 421, 'the wildcard is for subdomains only');
    assert.equal(names.check('0.0.0.0', false), 421, 'a wildcard listen address is no name');
    assert.equal(names.check('site.example:22', false), 421);
    assert.equal(names.check('evil.example', false), 421);
    assert.equal(names.check(undefined, false), 400);
  });

  it('never accepts a value containing userinfo, a path or whitespace, whatever surrounds it', () => {
    // fast-check is not installed here: random printable strings around each forbidden character.
    const printable = (): string => randomBytes(6).toString('latin1').replace(/[^\x21-\x7e]/g, 'a');
    for (let i = 0; i < 2000; i++) {
      for (const bad of ['@', '/', ' ', '\t', '?', '#']) {
        const value = `${printable()}${bad}${printable()}`;
        const v = names.check(value, false);
        assert.ok(v === 400 || v === 421, `${value} -> ${String(v)}`);
      }
    }
    assert.equal(names.check('site.example', false), 'site.example');
  });

  it('keeps the memo of accepted spellings bounded and right after a flood of spellings', () => {
    for (let i = 0; i < 1000; i++) names.check(`Site.Example`.split('').map((c, j) => ((i >> j) & 1 ? c.toUpperCase() : c.toLowerCase())).join(''), false);
    assert.equal(names.check('sItE.example', false), 'site.example');
  });
});

describe('Connection tokens', () => {
  it('never name Host or the framing headers', () => {
    assert.deepEqual([...(connectionTokens('Host, Content-Length, Transfer-Encoding, X-Secret') ?? [])], ['x-secret']);
  });
});
