// Pure unit tests of the response header rules on the pass-through path: the flat header list
// built from a backend's raw headers says what the header-map path (responseHeaders +
// applyResponsePasses) says, and the interned header strings decode as toString would.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contentLengthOf, responseHeaderList, type AddedResponseFields } from '../../../services/balancer/src/response/header-list.js';
import { applyResponsePasses } from '../../../services/balancer/src/response/passes.js';
import { responseHeaders } from '../../../services/balancer/src/request/hop-by-hop.js';
import { headerName, headerValue } from '../../../services/balancer/src/request/header-strings.js';
import type { RequestContext } from '../../../services/balancer/src/request/context.js';

const raw = (...fields: string[]): Buffer[] => fields.map((s) => Buffer.from(s, 'latin1'));

const fields = (over: Partial<AddedResponseFields> = {}): AddedResponseFields => ({
  servedByName: 'x-served-by',
  backendName: 'pi1',
  viaEntry: '1.1 dramble-balancer',
  requestId: 'rid-1',
  hsts: undefined,
  xCache: undefined,
  ...over,
});

/** The list as Node sends it, read back as a map: one entry per name, repeated fields as arrays. */
function asMap(list: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    const prior = out[name];
    out[name] = prior === undefined ? list[i + 1]! : [...(Array.isArray(prior) ? prior : [prior]), list[i + 1]!];
  }
  return out;
}

/** What the header-map path (cache, compression) sends for the same response. */
function mapPath(rawHeaders: Buffer[], add: AddedResponseFields): Record<string, string | string[]> {
  const headers = responseHeaders(rawHeaders);
  if (add.xCache !== undefined) delete headers['cache-tag'];
  const ctx = { id: add.requestId, proto: add.hsts !== undefined ? 'https' : 'http' } as RequestContext;
  const extra = add.xCache !== undefined ? { 'x-cache': add.xCache } : undefined;
  return applyResponsePasses(headers, add.backendName, '1.1', ctx, { viaName: 'dramble-balancer', servedByHeader: 'X-Served-By', hstsMaxAge: add.hsts !== undefined ? 60 : 0 }, extra);
}

describe('flat response header list', () => {
  it('lower-cases names, drops hop-by-hop fields and adds ours at the end', () => {
    const list = responseHeaderList(raw('Content-Type', 'text/html', 'Content-Length', '5', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'Date', 'Wed, 25 Nov 2026 07:20:00 GMT'), fields());
    assert.deepEqual(list, ['content-type', 'text/html', 'content-length', '5', 'date', 'Wed, 25 Nov 2026 07:20:00 GMT', 'x-served-by', 'pi1', 'via', '1.1 dramble-balancer', 'x-request-id', 'rid-1']);
  });

  it('appends our Via after the backend\'s entries and replaces the fields we set', () => {
    const list = responseHeaderList(raw('Via', '1.0 a', 'X-Served-By', 'spoof', 'via', '1.1 b', 'X-Request-Id', 'theirs', 'Strict-Transport-Security', 'max-age=1'), fields({ hsts: 'max-age=60' }));
    assert.deepEqual(asMap(list), { via: '1.0 a, 1.1 b, 1.1 dramble-balancer', 'x-served-by': 'pi1', 'x-request-id': 'rid-1', 'strict-transport-security': 'max-age=60' });
  });

  it('keeps Cache-Tag and X-Cache from the backend with the cache off, and replaces them when the cache saw the request', () => {
    const backend = raw('Cache-Tag', 'post:a, home', 'X-Cache', 'HIT');
    assert.equal(asMap(responseHeaderList(backend, fields()))['cache-tag'], 'post:a, home');
    assert.equal(asMap(responseHeaderList(backend, fields()))['x-cache'], 'HIT');
    const bypass = asMap(responseHeaderList(backend, fields({ xCache: 'BYPASS' })));
    assert.equal(bypass['cache-tag'], undefined);
    assert.equal(bypass['x-cache'], 'BYPASS');
  });

  it('drops every field the backend\'s Connection names, wherever it stands', () => {
    const list = responseHeaderList(raw('X-Private', 'a', 'Connection', 'close, X-Private', 'connection', 'via', 'Via', '1.0 hidden', 'X-Public', 'ok'), fields());
    assert.deepEqual(asMap(list), { 'x-public': 'ok', 'x-served-by': 'pi1', via: '1.1 dramble-balancer', 'x-request-id': 'rid-1' });
  });

  it('keeps repeated fields as separate entries, in order', () => {
    const list = responseHeaderList(raw('Set-Cookie', 'a=1', 'Vary', 'Accept', 'set-cookie', 'b=2'), fields());
    assert.deepEqual(asMap(list)['set-cookie'], ['a=1', 'b=2']);
  });

  it('says what the header-map path says', () => {
    const cases: Array<[Buffer[], AddedResponseFields]> = [
      [raw('Content-Type', 'text/html', 'Content-Length', '12', 'Date', 'x', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5'), fields()],
      [raw('Via', '1.0 a', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Served-By', 'spoof', 'Cache-Tag', 't'), fields({ xCache: 'BYPASS' })],
      [raw('Connection', 'x-a, x-b', 'X-A', '1', 'X-B', '2', 'X-C', '3', 'Transfer-Encoding', 'chunked', 'Trailer', 'x'), fields({ hsts: 'max-age=60' })],
      [raw('ETag', '"v1"', 'Strict-Transport-Security', 'max-age=1', 'X-Request-Id', 'theirs'), fields({ requestId: 'mine' })],
    ];
    for (const [headers, add] of cases) assert.deepEqual(asMap(responseHeaderList(headers, add)), mapPath(headers, add));
  });

  it('reads the declared Content-Length off the list', () => {
    assert.equal(contentLengthOf(['content-type', 'text/html', 'content-length', '2048']), 2048);
    assert.equal(contentLengthOf(['content-length', '0']), 0);
    assert.equal(contentLengthOf(['content-type', 'text/html']), -1);
    assert.equal(contentLengthOf(['content-length', 'x']), -1);
  });
});

describe('interned header strings', () => {
  it('decodes names in lower case and values as they are, whatever was seen before', () => {
    for (let round = 0; round < 3; round++) {
      assert.equal(headerName(Buffer.from('Content-Type')), 'content-type');
      assert.equal(headerName(Buffer.from('content-type')), 'content-type');
      assert.equal(headerValue(Buffer.from('Text/HTML')), 'Text/HTML');
      assert.equal(headerValue(Buffer.from('text/html')), 'text/html');
    }
    const long = `${'x'.repeat(100)}Y`;
    assert.equal(headerName(Buffer.from(long)), long.toLowerCase());
    assert.equal(headerValue(Buffer.from(long)), long);
    assert.equal(headerValue(Buffer.from([0x63, 0xe9, 0xff])), 'c\u00e9\u00ff');
    assert.equal(headerName(Buffer.from([0x58, 0xc9])), 'x\u00e9');
  });

  it('gives back the same string for the same bytes, so nothing is allocated on a hit', () => {
    const a = headerValue(Buffer.from('no-store'));
    const b = headerValue(Buffer.from('no-store'));
    assert.equal(a, b);
    assert.equal(headerName(Buffer.from('DATE')), headerName(Buffer.from('date')));
  });

  it('tells apart strings that share a table slot', () => {
    // Many distinct values through the small table: every answer still matches its own bytes.
    for (let i = 0; i < 2000; i++) {
      const v = `v${i}`;
      assert.equal(headerValue(Buffer.from(v)), v);
      assert.equal(headerValue(Buffer.from(`v${i % 7}`)), `v${i % 7}`);
    }
  });
});
