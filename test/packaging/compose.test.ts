// docker-compose.yml: Debian's docker-compose accepts it, and `up` starts things in order (every
// dependency it waits for has a healthcheck) with the same hardening as the Kubernetes pods.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { composeBinary, composeFile, root } from './support.js';

describe('docker-compose.yml', () => {
  const bin = composeBinary();

  it('is accepted by `docker-compose config`', { skip: bin ? false : 'docker-compose is not installed (apt-get install docker-compose)' }, () => {
    // Throws with compose's own message (and a non-zero status) when the file is invalid.
    execFileSync(bin!, ['config', '--quiet'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  });

  const compose = composeFile();
  const services = compose.services;

  it('has MariaDB primary and replica, Redis, the db-manager, two app instances and the balancer on 8080', () => {
    assert.deepEqual(Object.keys(services).sort(), ['app1', 'app2', 'balancer', 'db-manager', 'mariadb-primary', 'mariadb-replica', 'redis']);
    assert.ok(JSON.stringify(services.balancer!.ports).includes('8080'), 'balancer published on 8080');
  });

  it('every service has a healthcheck and waits for the healthy state of what it depends on', () => {
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.healthcheck?.test && !s.healthcheck.disable, `${name} has a healthcheck`);
      const deps = s.depends_on ?? {};
      assert.ok(!Array.isArray(deps), `${name}: depends_on with conditions`);
      for (const [dep, cond] of Object.entries(deps)) {
        assert.ok(dep in services, `${name} depends on ${dep}, which exists`);
        assert.equal(cond.condition, 'service_healthy', `${name} waits for ${dep} to be healthy`);
      }
    }
    const needs = (name: string) => Object.keys((services[name]!.depends_on ?? {}) as object).sort();
    assert.deepEqual(needs('db-manager'), ['mariadb-primary', 'mariadb-replica', 'redis']);
    assert.deepEqual(needs('app1'), ['db-manager', 'redis']);
    assert.deepEqual(needs('balancer'), ['app1', 'app2']);
  });

  it('each MariaDB has its own server_id and a GTID binlog', () => {
    const ids = new Set<string>();
    for (const name of ['mariadb-primary', 'mariadb-replica']) {
      const cmd = (services[name] as { command?: string[] }).command ?? [];
      const id = cmd.find((a) => a.startsWith('--server-id='));
      assert.ok(id, `${name} sets --server-id`);
      ids.add(id);
      for (const flag of ['--log-bin=mysql-bin', '--gtid-strict-mode=ON', '--log-slave-updates=ON', '--binlog-format=ROW']) assert.ok(cmd.includes(flag), `${name} ${flag}`);
    }
    assert.equal(ids.size, 2, 'server ids differ');
  });

  it('runs every container non-root, read-only and without capabilities, as the pods do', () => {
    for (const [name, s] of Object.entries(services)) {
      assert.equal(s.read_only, true, `${name} read_only`);
      assert.deepEqual(s.cap_drop, ['ALL'], `${name} cap_drop ALL`);
      // Our images set USER 1000:1000; the others must be told.
      if (!s.build) assert.ok(s.user && !s.user.startsWith('0'), `${name} runs as a non-root user`);
      assert.ok(s.image && !/:latest$/.test(s.image) && /:\d+\.\d+\.\d+/.test(s.image), `${name} image ${s.image} is pinned`);
    }
  });
});
