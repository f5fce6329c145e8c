// The settings table: defaults that make failover fast, DBM_* env vars, flags, and errors that name the setting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@dramble/lib';
import { settings } from '@dramble/db-manager';

describe('db-manager settings', () => {
  it('has defaults that detect a dead primary in about 2-3 s', () => {
    const c = loadConfig(settings, { argv: ['--instances', 'db1:3306'], env: {} });
    assert.equal(c.probeIntervalMs, 1000);
    assert.equal(c.failoverAfterProbes, 3);
    assert.equal(c.probeTimeoutMs, 500);
    assert.equal(c.mysqlUser, 'root');
    assert.equal(c.replicationUser, 'repl');
    assert.equal(c.autoRejoin, true);
    assert.equal(c.bootstrap, true);
    assert.equal(c.election, 'none');
    assert.deepEqual(c.admin, { host: '127.0.0.1', port: 9090 });
  });

  it('reads DBM_* variables, comma-separated instances, and lets flags win', () => {
    const c = loadConfig(settings, { argv: ['--probe-interval-ms', '500', '--no-auto-rejoin'], env: { DBM_INSTANCES: 'db1:3306, db2:3306,db3:3306', DBM_PROBE_INTERVAL_MS: '2000', DBM_SEMI_SYNC: 'true', DBM_ADMIN_TOKEN: 's3cret' } });
    assert.deepEqual(c.instances, ['db1:3306', 'db2:3306', 'db3:3306']);
    assert.equal(c.probeIntervalMs, 500);
    assert.equal(c.semiSync, true);
    assert.equal(c.autoRejoin, false);
    assert.equal(c.adminToken, 's3cret');
  });

  it('rejects a bad value naming the setting and its flag', () => {
    assert.throws(() => loadConfig(settings, { argv: ['--instances', 'db1'], env: {} }), (e: unknown) => e instanceof ConfigError && /--instances/.test(e.message) && /host:port/.test(e.message));
    assert.throws(() => loadConfig(settings, { argv: ['--election', 'zookeeper'], env: {} }), (e: unknown) => e instanceof ConfigError && /--election/.test(e.message));
  });
});
