// The Host rules without sockets: what is an authority (RFC 9110 §7.2, RFC 3986 §3.2), which names
// and ports are ours, how an accepted Host is normalised, and that Connection cannot name Host.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
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
    const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 12 });
    fc.assert(
      fc.property(printable, fc.constantFrom('@', '/', ' ', '\t', '?', '#', '\\', '\r', '\n', '\0'), printable, (before, bad, after) => {
        const v = names.check(`${before}${bad}${after}`, false);
        assert.ok(v === 400 || v === 421, String(v));
      }),
      { numRuns: 3000 },
    );
    assert.equal(names.check('site.example', false), 'site.example');
  });

  it('keeps the memo of accepted spellings bounded and right after a flood of spellings', () => {
    for (let i = 0; i < 1000; i++) names.check(`Site.Example`.split('').map((c, j) => ((i >> j) & 1 ? c.toUpperCase() : c.toLowerCase())).join(''), false);
    assert.equal(names.check('sItE.example', false), 'site.example');
  });
});

// Property tests of parseAuthority (RFC 3986 §3.2.2-3): it never throws, and what it accepts is a
// host[:port] that it read whole. `new URL('http://' + s)` is the differential oracle, with the
// WHATWG URL standard's known departures from RFC 3986 left out of the comparison:
// - it percent-decodes reg-names (`%41` is `a`) and then refuses some decoded characters;
// - it reads a name whose last label is numeric as IPv4 (`0x7f.1` is 127.0.0.1; `a.1` is refused);
// - it runs IDNA on `xn--` labels and refuses invalid punycode;
// - it re-serialises IPv6 literals (`[0:0::1]` is `[::1]`) and drops the scheme's default port.
describe('Authority parser properties', () => {
  const AUTHORITY_CHARS = [..."aZz09-._~!$&'()*+,;=%:[]@/?# \t\\"];
  /** Strings near the grammar: its own characters and delimiters, hex digits, and any UTF-16. */
  const nearAuthority = fc.string({
    maxLength: 24,
    unit: fc.oneof(fc.constantFrom(...AUTHORITY_CHARS), fc.constantFrom(...'0123456789abcdefABCDEF'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
  });
  /** Valid authorities (domains, IPv4, IPv6, ports), some with userinfo, with any letter case. */
  const shaped = fc
    .tuple(fc.webAuthority({ withIPv4: true, withIPv6: true, withIPv4Extended: true, withPort: true, withUserInfo: true }), fc.boolean())
    .map(([a, upper]) => (upper ? a.toUpperCase() : a));
  /** Bracketed runs of IPv6 characters: most are no address (`[:::::]`, `[1.2.3]`). */
  const nearIPv6 = fc
    .tuple(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.'), minLength: 1, maxLength: 16 }), fc.option(fc.nat(70_000), { nil: undefined }))
    .map(([inside, port]) => `[${inside}]${port === undefined ? '' : `:${port}`}`);
  const candidate = fc.oneof(nearAuthority, shaped, nearIPv6);

  /** The URL standard is a meaningful oracle for this name (see the list of departures above). */
  const urlComparable = (name: string): boolean => {
    if (name.startsWith('[')) return true;
    if (name.includes('%')) return false;
    const last = name.split('.').filter((l) => l !== '').pop() ?? '';
    if (/^(\d+|0x[0-9a-f]*)$/.test(last)) return false;
    return !name.split('.').some((l) => l.startsWith('xn--'));
  };

  it('never throws; what it accepts is a whole, valid host[:port]', () => {
    fc.assert(
      fc.property(candidate, (s) => {
        const a = parseAuthority(s);
        if (a === undefined) return;
        assert.equal(a.name, a.name.toLowerCase());
        if (a.name.startsWith('[')) assert.ok(a.name.endsWith(']') && isIPv6(a.name.slice(1, -1)), 'IP-literal holds an IPv6 address');
        else assert.match(a.name, /^(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9a-f]{2})+$/, 'reg-name');
        if (a.port !== undefined) assert.ok(Number.isInteger(a.port) && a.port >= 0 && a.port <= 65535, 'port');
        // Nothing was dropped: the input is the name, then nothing, ":" or ":" and the port's digits.
        const rest = s.toLowerCase().slice(a.name.length);
        assert.ok(s.toLowerCase().startsWith(a.name), 'name is the prefix');
        assert.ok(rest === '' || rest === ':' || (/^:\d{1,5}$/.test(rest) && Number(rest.slice(1)) === a.port), `rest ${rest}`);
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the URL standard: what it accepts, URL reads as the same bare host and port', () => {
    fc.assert(
      fc.property(candidate, (s) => {
        const a = parseAuthority(s);
        if (a === undefined || !urlComparable(a.name)) return;
        const url = new URL(`http://${s}`);
        assert.equal(url.username + url.password + url.search + url.hash, '', 'no userinfo, query or fragment');
        assert.equal(url.pathname, '/');
        if (!a.name.startsWith('[')) assert.equal(url.hostname, a.name);
        else assert.equal(url.hostname, new URL(`http://${a.name}`).hostname);
        assert.equal(url.port, a.port === undefined || a.port === 80 ? '' : String(a.port));
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses whatever URL reads with userinfo, a path, a query or a fragment', () => {
    fc.assert(
      fc.property(candidate, (s) => {
        let url: URL;
        try {
          url = new URL(`http://${s}`);
        } catch {
          return;
        }
        if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || s.includes('/')) {
          assert.equal(parseAuthority(s), undefined);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('Connection tokens', () => {
  it('never name Host or the framing headers', () => {
    assert.deepEqual([...(connectionTokens('Host, Content-Length, Transfer-Encoding, X-Secret') ?? [])], ['x-secret']);
  });
});
