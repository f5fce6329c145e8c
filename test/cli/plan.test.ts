// The cluster `dramble up` plans: which flags each service gets, and that every service accepts
// them (its own settings table is the truth for flag names).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@dramble/lib';
import { adaptFlags, loadServiceSettings, newCredentials, parseMySQLUrls, serviceSpecs, missingBinariesMessage } from '@dramble/cli';

const ports = {
  balancer: 8080, dashboard: 8079, 'balancer-admin': 9080, 'db-manager-admin': 9090, redis: 6380,
  'mysql-1': 3307, 'mysql-2': 3308, 'app-1': 8081, 'app-1-admin': 9081, 'app-2': 8082, 'app-2-admin': 9082,
};
const credentials = newCredentials();
const plan = serviceSpecs({
  ports,
  apps: 2,
  credentials,
  mysql: [{ name: 'mysql-1', host: '127.0.0.1', port: 3307 }, { name: 'mysql-2', host: '127.0.0.1', port: 3308 }],
  redisUrl: 'redis://127.0.0.1:6380',
  probeIntervalMs: 500,
});
const flag = (name: string, f: string) => plan.find((s) => s.name === name)?.flags.filter(([k]) => k === f).map(([, v]) => v);

describe('the services dramble up starts', () => {
  it('starts the db-manager first, then the apps, then the balancer in front of them', () => {
    assert.deepEqual(plan.map((s) => s.name), ['db-manager', 'app-1', 'app-2', 'balancer']);
    assert.deepEqual(flag('balancer', 'backend'), ['http://127.0.0.1:8081#app-1', 'http://127.0.0.1:8082#app-2']);
    assert.deepEqual(flag('balancer', 'listen'), ['127.0.0.1:8080']);
  });

  it('gives the db-manager every MySQL server, the first as preferred primary, and the per-cluster token', () => {
    assert.deepEqual(flag('db-manager', 'instances'), ['127.0.0.1:3307,127.0.0.1:3308']);
    assert.deepEqual(flag('db-manager', 'primary'), ['127.0.0.1:3307']);
    assert.deepEqual(flag('db-manager', 'admin-token'), [credentials.dbManagerToken]);
  });

  it('gives each app its own name and ports, the site database and the editor login', () => {
    const url = new URL(flag('app-2', 'mysql-url')![0]!);
    assert.equal(url.port, '3307');
    assert.equal(url.username, credentials.appUser);
    assert.equal(url.pathname, '/dramble');
    assert.equal(new URL(flag('app-2', 'mysql-replica-url')![0]!).port, '3308');
    assert.deepEqual(flag('app-2', 'instance-name'), ['app-2']);
    assert.deepEqual(flag('app-2', 'admin-password'), [credentials.adminPassword]);
  });

  for (const service of ['db-manager', 'app', 'balancer'] as const) {
    it(`passes ${service} only flags its settings table accepts`, async () => {
      const settings = await loadServiceSettings(service);
      assert.ok(settings, `services/${service}/src/config.ts exports settings`);
      for (const spec of plan.filter((s) => s.service === service)) {
        const { args, env, dropped } = adaptFlags(settings, spec.flags);
        assert.deepEqual(dropped, [], `${spec.name}: flags the service does not know`);
        assert.doesNotThrow(() => loadConfig(settings as never, { argv: args, env }), `${spec.name} config loads`);
      }
    });
  }

  it('renames a flag by setting key and drops one the service does not have', () => {
    const r = adaptFlags({ adminToken: { flag: 'token' }, listen: { flag: 'listen' } }, [['admin-token', 't'], ['listen', ':1'], ['nope', 'x']]);
    assert.deepEqual(r.args, ['--token', 't', '--listen', ':1']);
    assert.deepEqual(r.env, {});
    assert.deepEqual(r.dropped, ['nope']);
  });

  it('uses servers that already run from --mysql URLs', () => {
    const m = parseMySQLUrls(['mysql://site:s3cret@db1:3306/blog', 'mysql://site:s3cret@db2:3307/blog']);
    assert.deepEqual(m.targets.map((t) => `${t.host}:${t.port}`), ['db1:3306', 'db2:3307']);
    assert.equal(m.user, 'site');
    assert.equal(m.database, 'blog');
  });

  it('names the Debian packages to install, or docker compose, when binaries are missing', () => {
    const both = missingBinariesMessage(true, true);
    assert.match(both, /apt-get install mariadb-server redis-server/);
    assert.match(both, /docker compose up/);
    assert.match(missingBinariesMessage(false, true), /apt-get install redis-server$/m);
  });
});
