// The pass-through path decides from the raw header list whether compression would change a
// response (rawLeftAlone); it must agree with maybeCompress, which decides on the header map.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { maybeCompress, rawLeftAlone } from '../../../services/balancer/src/compression/index.js';
import type { OutgoingResponse } from '../../../services/balancer/src/forward/types.js';

type Fields = Array<[string, string]>;

const raw = (fields: Fields): Buffer[] => fields.flatMap(([k, v]) => [Buffer.from(k, 'latin1'), Buffer.from(v, 'latin1')]);
const map = (fields: Fields): Record<string, string | string[]> => {
  const h: Record<string, string | string[]> = {};
  for (const [k, v] of fields) {
    const name = k.toLowerCase();
    const prev = h[name];
    h[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return h;
};

const CASES: Array<[string, number, Fields]> = [
  ['html, large', 200, [['Content-Type', 'text/html; charset=utf-8'], ['Content-Length', '5000']]],
  ['html, no length', 200, [['content-type', 'text/html']]],
  ['html, small', 200, [['Content-Type', 'text/html'], ['Content-Length', '100']]],
  ['json, exactly the minimum', 200, [['Content-Type', 'application/json'], ['Content-Length', '1024']]],
  ['png', 200, [['Content-Type', 'image/png'], ['Content-Length', '50000']]],
  ['no content type', 200, [['Content-Length', '50000']]],
  ['already gzip', 200, [['Content-Type', 'text/html'], ['Content-Encoding', 'gzip']]],
  ['identity encoding', 200, [['Content-Type', 'text/css'], ['Content-Encoding', 'identity']]],
  ['no-transform', 200, [['Content-Type', 'text/html'], ['Cache-Control', 'public, no-transform']]],
  ['no-transform on a second line', 200, [['Content-Type', 'text/html'], ['Cache-Control', 'public'], ['Cache-Control', 'no-transform']]],
  ['event stream', 200, [['Content-Type', 'text/event-stream']]],
  ['svg', 200, [['Content-Type', 'image/svg+xml']]],
  ['304', 304, [['Content-Type', 'text/html']]],
  ['206', 206, [['Content-Type', 'text/html'], ['Content-Range', 'bytes 0-9/100']]],
  ['204', 204, [['Content-Type', 'text/html']]],
  ['404 page', 404, [['Content-Type', 'text/html'], ['Content-Length', '3000']]],
];

describe('rawLeftAlone', () => {
  for (const [name, status, fields] of CASES) {
    it(`agrees with maybeCompress: ${name}`, () => {
      const upstream: OutgoingResponse = { status, headers: map(fields), body: Buffer.from('x'.repeat(2000)), backend: { id: 'a', name: 'a' }, retries: 0 };
      const untouched = maybeCompress({ method: 'GET', headers: { 'accept-encoding': 'gzip, br' } }, upstream, { minBytes: 1024 }) === upstream;
      assert.equal(rawLeftAlone(status, raw(fields), 1024), untouched);
    });
  }

  it('leaves alone what is not worth compressing and compresses a large page', () => {
    assert.equal(rawLeftAlone(200, raw([['Content-Type', 'image/png']]), 1024), true);
    assert.equal(rawLeftAlone(200, raw([['Content-Type', 'text/html'], ['Content-Length', '5000']]), 1024), false);
  });
});
