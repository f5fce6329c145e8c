// Which admin power a request needs and which token grants it, without sockets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { powerFor, refusal } from '../../../services/balancer/src/admin/powers.js';

const req = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;
const tokens = { purge: 'p-token', drain: 'd-token' };

describe('admin powers', () => {
  it('names the power of each mutating route, and none for reads or other paths', () => {
    assert.equal(powerFor('POST', '/api/cache/purge'), 'purge');
    assert.equal(powerFor('POST', '/api/backends/pi1/drain'), 'drain');
    assert.equal(powerFor('POST', '/api/backends/127.0.0.1%3A3000/undrain'), 'drain');
    assert.equal(powerFor('GET', '/api/cache/purge'), undefined);
    assert.equal(powerFor('GET', '/api/backends'), undefined);
    assert.equal(powerFor('POST', '/api/backends/a/b/drain'), undefined);
    assert.equal(powerFor('POST', '/api/cache'), undefined);
  });

  it('grants each power to its own token only: the other power\'s token is 403, anything else 401', () => {
    assert.equal(refusal(req('Bearer p-token'), 'purge', tokens), undefined);
    assert.equal(refusal(req('Bearer d-token'), 'drain', tokens), undefined);
    assert.deepEqual(refusal(req('Bearer p-token'), 'drain', tokens), { status: 403, error: 'this token grants purge, not drain' });
    assert.deepEqual(refusal(req('Bearer d-token'), 'purge', tokens), { status: 403, error: 'this token grants drain, not purge' });
    assert.equal(refusal(req('Bearer nope'), 'purge', tokens)?.status, 401);
    assert.equal(refusal(req(), 'drain', tokens)?.status, 401);
    assert.equal(refusal(req('Basic p-token'), 'purge', tokens)?.status, 401);
  });

  it('refuses a power that has no token (401 naming the setting), even to the other power\'s token', () => {
    const purgeOnly = { purge: 'p-token', drain: undefined };
    assert.deepEqual(refusal(req('Bearer p-token'), 'drain', purgeOnly), { status: 401, error: 'no drain token is configured (--drain-token); drain and undrain are disabled' });
    assert.match(refusal(req('Bearer x'), 'purge', { purge: undefined, drain: 'd' })!.error, /--purge-token/);
  });
});
