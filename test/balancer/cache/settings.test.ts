// The cache, compression and rate-limit settings as an operator gives them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from '@dramble/lib';
import { cacheSettings } from '../../../services/balancer/src/cache/index.js';

describe('cache settings', () => {
  it('has safe defaults: cache and compression on, rate limiting off', () => {
    const c = loadConfig(cacheSettings, { argv: [], env: {} });
    assert.equal(c.cache, true);
    assert.equal(c.cacheMaxBytes, 32 * 1024 * 1024);
    assert.deepEqual(c.cacheSessionCookies, ['dramble_session']);
    assert.equal(c.rateLimitRps, 0);
    assert.equal(c.compression, true);
  });

  it('reads flags over environment variables, lists from both', () => {
    const c = loadConfig(cacheSettings, {
      argv: ['--no-cache', '--cache-session-cookies', 'SESS', '--rate-limit-rps', '2.5'],
      env: { BALANCER_CACHE_SESSION_COOKIES: 'sid, remember', BALANCER_CACHE_MAX_BYTES: '1048576', BALANCER_RATE_LIMIT_RPS: '100' },
    });
    assert.equal(c.cache, false);
    assert.deepEqual(c.cacheSessionCookies, ['SESS']);
    assert.equal(c.cacheMaxBytes, 1048576);
    assert.equal(c.rateLimitRps, 2.5);
    assert.deepEqual(loadConfig(cacheSettings, { argv: [], env: { BALANCER_CACHE_SESSION_COOKIES: 'sid, remember' } }).cacheSessionCookies, ['sid', 'remember']);
  });

  it('names the setting when a value is invalid', () => {
    assert.throws(() => loadConfig(cacheSettings, { argv: ['--cache-max-bytes', 'lots'], env: {} }), (e: unknown) => e instanceof ConfigError && e.setting === 'cacheMaxBytes');
    assert.throws(() => loadConfig(cacheSettings, { argv: ['--rate-limit-burst', '0'], env: {} }), /rate-limit-burst/);
  });
});
