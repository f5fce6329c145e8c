// The environment the manifests and docker-compose.yml give each service is exactly settings that the
// service's config table reads (imported from services/<svc>/src/config.ts), the values pass its
// schema, and the addresses in them point at things that exist: a renamed setting, a typo in a name
// or a wrong port fails here instead of in a deployment.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, type HostPort, type Settings } from '@dramble/lib';
import { checkConfig as checkBalancerConfig, type BalancerConfig } from '../../services/balancer/src/config.js';
import {
  builds,
  composeFile,
  exampleSecret,
  composeEnv,
  find,
  resolveEnv,
  selectorMatches,
  serviceOfImage,
  SERVICES,
  workloads,
  type ComposeFile,
  type Container,
  type KubeObj,
  type PodSpec,
  type ServiceName,
} from './support.js';

function envNames(settings: Settings): Set<string> {
  return new Set(Object.values(settings).map((s) => s.env));
}

/** Loads a service's config from nothing but this environment, as the container would at start. */
function load(svc: ServiceName, env: Record<string, string>): Record<string, unknown> {
  const config = loadConfig(SERVICES[svc], { argv: [], env }) as Record<string, unknown>;
  if (svc === 'balancer') checkBalancerConfig(config as BalancerConfig);
  return config;
}

function unknownVars(svc: ServiceName, env: Record<string, string>): string[] {
  const known = envNames(SERVICES[svc]);
  return Object.keys(env).filter((k) => !known.has(k));
}

/** Every container of ours in a build, with its resolved environment. */
function ourContainers(objs: KubeObj[]): { svc: ServiceName; c: Container; pod: PodSpec; env: ReturnType<typeof resolveEnv> }[] {
  const out = [];
  for (const w of workloads(objs)) {
    for (const c of w.pod.containers) {
      const svc = serviceOfImage(c.image);
      if (svc) out.push({ svc, c, pod: w.pod, env: resolveEnv(c, objs) });
    }
  }
  return out;
}

function containerPort(c: Container, name: string): number | undefined {
  return c.ports?.find((p) => p.name === name)?.containerPort;
}

function servicePort(objs: KubeObj[], host: string, port: number): boolean {
  const svc = find(objs, 'Service', host.split('.')[0]!);
  return !!svc && (svc.spec as { ports: { port: number }[] }).ports.some((p) => p.port === port);
}

function urlHostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port ? Number(u.port) : defaultPort };
}

describe('Kubernetes manifests set only settings the services read', () => {
  for (const [overlay, objs] of builds()) {
    it(`${overlay}: every variable is a setting of that service and the config loads`, () => {
      const seen = new Set<ServiceName>();
      for (const { svc, c, env } of ourContainers(objs)) {
        seen.add(svc);
        assert.deepEqual(env.problems, [], `${svc}/${c.name}`);
        assert.deepEqual(unknownVars(svc, env.values), [], `${svc}: variables no setting of services/${svc}/src/config.ts reads`);
        assert.doesNotThrow(() => load(svc, env.values), `${svc}: the config loads from the manifest's environment`);
      }
      assert.deepEqual([...seen].sort(), ['app', 'balancer', 'db-manager']);
    });

    it(`${overlay}: secret settings come from the Secret (or name a file on a Secret volume), never from a ConfigMap or a literal`, () => {
      for (const { svc, c, env, pod } of ourContainers(objs)) {
        const secretDirs = (c.volumeMounts ?? [])
          .filter((m) => pod.volumes?.some((v) => v.name === m.name && v.secret))
          .map((m) => `${m.mountPath}/`);
        for (const [key, s] of Object.entries(SERVICES[svc])) {
          const source = env.sources[s.env];
          if (!s.secret || !source || source === 'secret') continue;
          const value = env.values[s.env]!;
          assert.ok(secretDirs.some((d) => value.startsWith(d)), `${svc} ${key} (${s.env}) is a secret but comes from a ${source}`);
        }
      }
    });

    it(`${overlay}: the listeners bind all interfaces on the declared container ports, and addresses point at existing Services`, () => {
      for (const { svc, c, env } of ourContainers(objs)) {
        const config = load(svc, env.values);
        const admin = config.admin as HostPort;
        assert.equal(admin.host, '0.0.0.0', `${svc} admin listener reachable by the kubelet`);
        assert.equal(admin.port, containerPort(c, 'admin'), `${svc} admin port`);
        if (svc !== 'db-manager') {
          const listen = config.listen as HostPort;
          assert.equal(listen.host, '0.0.0.0', `${svc} public listener reachable`);
          if (config.tlsCert) {
            // The balancer terminating TLS: HTTPS on the https port, the redirect listener on http.
            assert.equal(listen.port, containerPort(c, 'https'), `${svc} HTTPS port`);
            assert.equal((config.redirectListen as HostPort).port, containerPort(c, 'http'), `${svc} redirect port`);
            const mounts = c.volumeMounts ?? [];
            for (const file of [config.tlsCert, config.tlsKey] as string[]) {
              assert.ok(mounts.some((m) => file.startsWith(`${m.mountPath}/`)), `${file} is on a mounted volume`);
            }
          } else {
            assert.equal(listen.port, containerPort(c, 'http'), `${svc} public port`);
          }
        }
        if (svc === 'app') {
          for (const [setting, def] of [
            ['mysqlUrl', 3306],
            ['redisUrl', 6379],
            ['balancerAdminUrl', 80],
          ] as const) {
            const { host, port } = urlHostPort(config[setting] as string, def);
            assert.ok(servicePort(objs, host, port), `app ${setting}: Service ${host}:${port} exists`);
          }
          for (const url of config.mysqlReplicaUrls as string[]) {
            const { host, port } = urlHostPort(url, 3306);
            assert.ok(servicePort(objs, host, port), `app mysqlReplicaUrls: Service ${host}:${port} exists`);
          }
        }
        if (svc === 'db-manager') {
          const { host, port } = urlHostPort(config.redisUrl as string, 6379);
          assert.ok(servicePort(objs, host, port), `db-manager redisUrl: Service ${host}:${port} exists`);
          assert.equal(config.discovery, 'kubernetes');
          assert.equal(config.election, 'kubernetes');
          const selector = Object.fromEntries((config.podSelector as string).split(',').map((kv) => kv.split('=') as [string, string]));
          const mysql = workloads(objs).find((w) => selectorMatches(selector, w.labels));
          assert.equal(mysql?.name, 'mysql', 'db-manager podSelector selects the MySQL pods');
          assert.equal(containerPort(mysql.pod.containers[0]!, 'mysql'), config.mysqlPort);
        }
        if (svc === 'balancer') {
          assert.equal(config.discovery, 'kubernetes');
          assert.equal(config.namespace, 'dramble');
          const app = workloads(objs).find((w) => w.name === 'app')!;
          const appSvc = find(objs, 'Service', config.service as string);
          assert.ok(appSvc, `balancer discovers Service ${String(config.service)}`);
          assert.ok(selectorMatches((appSvc.spec as { selector: Record<string, string> }).selector, app.labels), 'that Service selects the app pods');
          assert.equal(config.backendPort, containerPort(app.pod.containers[0]!, 'http'), 'balancer backendPort is the app http port');
          assert.equal(config.healthPort, containerPort(app.pod.containers[0]!, 'admin'), 'balancer health checks the app admin port');
          assert.equal(config.healthPath, '/readyz');
        }
      }
    });
  }
});

function composeServiceOf(s: ComposeFile['services'][string]): ServiceName | undefined {
  const m = /services\/([a-z-]+)\/Dockerfile$/.exec(s.build?.dockerfile ?? '');
  if (m && m[1]! in SERVICES) return m[1] as ServiceName;
  return serviceOfImage(s.image);
}

describe('docker-compose.yml sets only settings the services read', () => {
  const compose = composeFile();
  const ours = Object.entries(compose.services).flatMap(([name, s]) => {
    const svc = composeServiceOf(s);
    return svc ? [{ name, svc, s, env: composeEnv(s.environment) }] : [];
  });

  it('runs the db-manager, two app instances and the balancer from our images', () => {
    assert.deepEqual(ours.map((o) => o.svc).sort(), ['app', 'app', 'balancer', 'db-manager']);
  });

  it('every variable is a setting of that service and the config loads', () => {
    for (const { name, svc, env } of ours) {
      assert.deepEqual(unknownVars(svc, env), [], `${name}: variables no setting of services/${svc}/src/config.ts reads`);
      assert.doesNotThrow(() => load(svc, env), `${name}: the config loads from its compose environment`);
    }
  });

  it('the same setting names as the Kubernetes manifests (only values differ)', () => {
    const k8s = new Map<ServiceName, Set<string>>();
    for (const { svc, env } of ourContainers(builds().get('pi')!)) k8s.set(svc, new Set(Object.keys(env.values)));
    // Settings only one of the two can have: discovery inputs differ by nature.
    const onlyOne = new Set(['BALANCER_BACKENDS', 'BALANCER_SERVICE', 'BALANCER_NAMESPACE', 'BALANCER_BACKEND_PORT', 'DBM_INSTANCES', 'DBM_PRIMARY', 'DBM_NAMESPACE', 'DBM_POD_SELECTOR', 'DBM_MYSQL_PORT', 'DBM_HEADLESS_SERVICE', 'DBM_IDENTITY', 'APP_INSTANCE_NAME', 'APP_NODE_NAME', 'BALANCER_LOG_LEVEL', 'APP_LOG_LEVEL', 'DBM_LOG_LEVEL']);
    for (const { name, svc, env } of ours) {
      const missing = [...k8s.get(svc)!].filter((k) => !(k in env) && !onlyOne.has(k));
      assert.deepEqual(missing, [], `${name} sets what the manifests set`);
    }
  });

  it('the MySQL credentials the services get are the ones the MariaDB containers are initialised with', () => {
    for (const host of ['mariadb-primary', 'mariadb-replica']) {
      const db = composeEnv(compose.services[host]!.environment);
      for (const { name, svc, env } of ours) {
        const config = load(svc, env);
        if (svc === 'app') {
          for (const url of [config.mysqlUrl as string, ...(config.mysqlReplicaUrls as string[])]) {
            const u = new URL(url);
            assert.equal(decodeURIComponent(u.username), db.DRAMBLE_DB_USER, `${name} user on ${host}`);
            assert.equal(decodeURIComponent(u.password), db.DRAMBLE_DB_PASSWORD, `${name} password on ${host}`);
            assert.equal(u.pathname, `/${db.DRAMBLE_DB_NAME}`);
          }
        }
        if (svc === 'db-manager') assert.equal(config.mysqlPassword, db.MARIADB_ROOT_PASSWORD, `db-manager root password on ${host}`);
      }
    }
  });

  it('addresses point at compose services and the ports they listen on', () => {
    const listenPort = new Map<string, number>();
    for (const { name, svc, env } of ours) {
      const config = load(svc, env);
      if (svc !== 'db-manager') listenPort.set(name, (config.listen as HostPort).port);
    }
    for (const { name, svc, env } of ours) {
      const config = load(svc, env);
      const admin = config.admin as HostPort;
      assert.equal(admin.host, '0.0.0.0', `${name} admin reachable from other containers`);
      const hc = JSON.stringify(compose.services[name]!.healthcheck?.test ?? '');
      assert.ok(hc.includes(`127.0.0.1:${admin.port}/readyz`), `${name} healthcheck asks its own /readyz on the admin port`);
      const urls: string[] = [];
      if (svc === 'app') urls.push(config.mysqlUrl as string, ...(config.mysqlReplicaUrls as string[]), config.redisUrl as string);
      if (svc === 'db-manager') urls.push(config.redisUrl as string);
      if (svc === 'balancer') {
        for (const b of config.backends as string[]) {
          const { host, port } = urlHostPort(b.split('#')[0]!, 80);
          assert.equal(listenPort.get(host), port, `balancer backend ${b} is an app instance's listener`);
        }
      }
      for (const u of urls) assert.ok(urlHostPort(u, 0).host in compose.services, `${name}: ${u} names a compose service`);
      if (svc === 'db-manager') {
        for (const i of config.instances as string[]) assert.ok(i.split(':')[0]! in compose.services, `db-manager instance ${i} is a compose service`);
      }
    }
  });
});

describe('k8s/base/secret.example.yaml', () => {
  const { data } = exampleSecret();

  it('its URLs carry the passwords the servers are given (one edit of the template cannot split them)', () => {
    for (const key of ['app-mysql-url', 'app-mysql-replica-url']) {
      const u = new URL(data[key]!);
      assert.equal(decodeURIComponent(u.password), data['mysql-app-password'], `${key} password = mysql-app-password`);
      assert.equal(decodeURIComponent(u.username), 'dramble');
    }
    assert.equal(decodeURIComponent(new URL(data['app-redis-url']!).password), data['redis-app-password']);
    assert.equal(decodeURIComponent(new URL(data['db-manager-redis-url']!).password), data['redis-manager-password']);
  });

  it("the app's and the db-manager's MySQL credentials are the ones MariaDB is initialised with", () => {
    for (const [overlay, objs] of builds()) {
      const mysqlC = workloads(objs).find((w) => w.name === 'mysql')!.pod.containers[0]!;
      const db = resolveEnv(mysqlC, objs).values;
      for (const { svc, env } of ourContainers(objs)) {
        const config = load(svc, env.values);
        if (svc === 'app') {
          for (const url of [config.mysqlUrl as string, ...(config.mysqlReplicaUrls as string[])]) {
            const u = new URL(url);
            assert.equal(decodeURIComponent(u.username), db.DRAMBLE_DB_USER, `${overlay}: app user`);
            assert.equal(decodeURIComponent(u.password), db.DRAMBLE_DB_PASSWORD, `${overlay}: app password`);
            assert.equal(u.pathname, `/${db.DRAMBLE_DB_NAME}`, `${overlay}: app database`);
          }
        }
        if (svc === 'db-manager') {
          assert.equal(config.mysqlUser, 'root');
          assert.equal(config.mysqlPassword, db.MARIADB_ROOT_PASSWORD, `${overlay}: db-manager uses the root password MariaDB was given`);
        }
      }
    }
  });

  it('holds placeholders only, no real secret', () => {
    for (const [key, value] of Object.entries(data)) {
      if (key === 'site-admin-email') continue;
      assert.match(value, /CHANGE-ME/, `${key} is a placeholder`);
    }
  });
});
