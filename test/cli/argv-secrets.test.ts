// `dramble up` never puts a secret on a command line: /proc/<pid>/cmdline (what `ps` shows) is
// readable by every local user. The spawn specs are built exactly as `dramble up` builds them and
// checked without starting anything; the services still receive every secret, through their env.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@dramble/lib';
import { adaptFlags, loadServiceSettings, mysqlSpec, newCredentials, redisSpec, serviceSpec, serviceSpecs, type Credentials } from '@dramble/cli';
import type { MariaDBBinaries } from '../../cli/src/local/mariadb.js';
import { redisUserUrl } from '../../cli/src/local/redis-acl.js';

const ports = {
  balancer: 8080, dashboard: 8079, 'balancer-admin': 9080, 'db-manager-admin': 9090, redis: 6380,
  'mysql-1': 3307, 'mysql-2': 3308, 'app-1': 8081, 'app-1-admin': 9081, 'app-2': 8082, 'app-2-admin': 9082,
};

/** Every credential that is a secret (user names and the editor's e-mail are not). */
function secretsOf(c: Credentials): Array<[string, string]> {
  return Object.entries(c).filter(([k]) => /password|token/i.test(k)) as Array<[string, string]>;
}

describe('secrets never reach a command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dramble-argv-'));
  const credentials = newCredentials();
  const plan = serviceSpecs({
    ports,
    apps: 2,
    credentials,
    mysql: [{ name: 'mysql-1', host: '127.0.0.1', port: 3307 }, { name: 'mysql-2', host: '127.0.0.1', port: 3308 }],
    redisUrl: 'redis://127.0.0.1:6380',
    redisUserUrls: { app: redisUserUrl('127.0.0.1', 6380, 'app', credentials.redisAppPassword), manager: redisUserUrl('127.0.0.1', 6380, 'dramble-manager', credentials.redisManagerPassword) },
    probeIntervalMs: 500,
  });
  let specs: Awaited<ReturnType<typeof serviceSpec>>['spec'][] = [];
  before(async () => {
    specs = [];
    for (const s of plan) specs.push((await serviceSpec(dir, s)).spec);
  });

  it('the plan does hand out every secret (so the check below is not vacuous)', () => {
    const planned = plan.flatMap((s) => s.flags.map(([, v]) => v)).join('\n');
    for (const [name, value] of secretsOf(credentials).filter(([k]) => k !== 'controlToken')) assert.ok(planned.includes(value), `${name} is given to some service`);
  });

  it('no service spec, MariaDB spec or Redis spec carries a secret in its argv', () => {
    const all = [
      ...specs,
      mysqlSpec(dir, { mariadbd: '/usr/sbin/mariadbd', installDb: '/usr/bin/mariadb-install-db' } satisfies MariaDBBinaries, 'mysql-1', 1, 3307, false, credentials),
      redisSpec(dir, '/usr/bin/redis-server', 6380, credentials),
    ];
    for (const spec of all) {
      const argv = [spec.command, ...spec.args].join(' ');
      for (const [name, value] of secretsOf(credentials)) assert.ok(!argv.includes(value), `${spec.name}'s argv holds ${name}`);
    }
  });

  it("Redis gets its users' passwords from a 0600 ACL file", () => {
    const spec = redisSpec(dir, '/usr/bin/redis-server', 6380, credentials);
    const file = spec.args[spec.args.indexOf('--aclfile') + 1]!;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const acl = readFileSync(file, 'utf8');
    assert.ok(acl.includes(`>${credentials.redisAppPassword}`) && acl.includes(`>${credentials.redisManagerPassword}`));
    assert.match(acl, /^user default off/m);
  });

  it('each service gets its secrets in its environment, and its config reads them from there', async () => {
    const byName = (n: string) => specs.find((s) => s.name === n)!;
    const balancer = await loadServiceSettings('balancer');
    const lb = byName('balancer');
    assert.deepEqual(lb.env, { BALANCER_PURGE_TOKEN: credentials.balancerPurgeToken, BALANCER_DRAIN_TOKEN: credentials.balancerDrainToken });
    const lbArgs = lb.args.slice(lb.args.findIndex((a) => /main\.[jt]s$/.test(a)) + 1);
    const lbConfig = loadConfig(balancer as never, { argv: lbArgs, env: lb.env }) as Record<string, unknown>;
    assert.equal(lbConfig['purgeToken'], credentials.balancerPurgeToken);
    assert.equal(lbConfig['drainToken'], credentials.balancerDrainToken);

    const app = byName('app-1');
    assert.equal(app.env?.['APP_BALANCER_TOKEN'], credentials.balancerPurgeToken, 'the app holds the purge token');
    assert.ok(!Object.values(app.env ?? {}).includes(credentials.balancerDrainToken), 'and never the drain token');
    assert.equal(app.env?.['APP_ADMIN_PASSWORD'], credentials.adminPassword);
    assert.ok(app.env?.['APP_MYSQL_URL']?.includes(encodeURIComponent(credentials.appPassword)));

    const dbm = byName('db-manager');
    assert.equal(dbm.env?.['DBM_MYSQL_PASSWORD'], credentials.mysqlPassword);
    assert.equal(dbm.env?.['DBM_REPLICATION_PASSWORD'], credentials.replicationPassword);
    assert.equal(dbm.env?.['DBM_ADMIN_TOKEN'], credentials.dbManagerToken);
    assert.equal(new URL(dbm.env!['DBM_REDIS_URL']!).username, 'dramble-manager', 'the db-manager logs in to Redis as the topology owner');
    assert.equal(new URL(app.env!['APP_REDIS_URL']!).username, 'app', 'the app logs in to Redis as the app user');
  });

  it('joins a repeated secret list setting with commas, the way its env var is split', () => {
    const r = adaptFlags({ replicas: { flag: 'replica-url', list: true, secret: true, env: 'X_REPLICAS' } }, [['replica-url', 'mysql://u:p%2C1@a/db'], ['replica-url', 'mysql://u:p@b/db']]);
    assert.deepEqual(r, { args: [], env: { X_REPLICAS: 'mysql://u:p%2C1@a/db,mysql://u:p@b/db' }, dropped: [] });
  });

  it('refuses a secret setting that has no environment variable rather than putting it in argv', () => {
    assert.throws(() => adaptFlags({ token: { flag: 'token', secret: true } }, [['token', 's3cret']]), /refusing to put it on a command line/);
  });
});
