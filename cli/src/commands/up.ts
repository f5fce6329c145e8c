// `dramble up`: the whole cluster on this machine, step by step, then the URLs and the editor's
// first login. Stays in the foreground; Ctrl-C stops everything in reverse order.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fetchTopology, instanceOnPort } from '../api.js';
import type { Parsed } from '../args.js';
import { startDashboard, type DashboardHandle } from '../dashboard/server.js';
import { ensureDatadir, findMariaDB, writeInitFile, MARIADB_PACKAGE, type MariaDBBinaries } from '../local/mariadb.js';
import { ownsPid, procStartTime, waitFor } from '../local/process.js';
import { findRedis, REDIS_PACKAGE } from '../local/redis.js';
import { REDIS_APP_USER, REDIS_MANAGER_USER, redisUserUrl } from '../local/redis-acl.js';
import { step, seconds, type Say } from '../output.js';
import { DATABASE, parseMySQLUrls, serviceSpecs, type MySQLTarget } from '../plan.js';
import { assignPorts, wantedPorts } from '../ports.js';
import { mysqlSpec, redisSpec, serviceSpec } from '../specs.js';
import { loadOrCreateCredentials, paths, readCluster, readPorts, writePorts, type ClusterFile } from '../state.js';
import { StoppingError, Supervisor } from '../supervisor.js';

export function missingBinariesMessage(mariadb: boolean, redis: boolean): string {
  const pkgs = [mariadb ? MARIADB_PACKAGE : '', redis ? REDIS_PACKAGE : ''].filter(Boolean);
  const what = [mariadb ? 'mariadbd (MariaDB server)' : '', redis ? 'redis-server' : ''].filter(Boolean).join(' and ');
  return [
    `dramble up needs ${what} on this machine.`,
    `  Debian/Ubuntu/Raspberry Pi OS:  sudo apt-get install ${pkgs.join(' ')}`,
    '  or run the stack in containers:  docker compose up',
    '  or use servers that already run: dramble up --mysql mysql://user:pass@host:3306/dramble --redis redis://host:6379',
  ].join('\n');
}

/** A previous `up` that still runs (its supervisor or any of its processes alive). */
function stillRunning(c: ClusterFile | undefined): string[] {
  if (!c) return [];
  return c.processes.filter((p) => p.pid !== process.pid && ownsPid(p.pid, p.marker, p.startTime)).map((p) => `${p.name} (pid ${p.pid})`);
}

export async function up(o: Parsed, out: Say): Promise<number> {
  const dir = resolve(o.dir);
  const t0 = Date.now();
  const previous = readCluster(dir);
  const running = stillRunning(previous);
  if (running.length > 0) {
    out(`a cluster from ${dir} is still running: ${running.join(', ')}\nstop it with: dramble down${o.dir === '.dramble' ? '' : ` --dir ${o.dir}`}`);
    return 1;
  }
  const external = o.mysql.length > 0;
  let mariadb: MariaDBBinaries | undefined;
  let redisBin: string | undefined;
  if (!external) {
    mariadb = findMariaDB();
    redisBin = findRedis();
    if (!mariadb || !redisBin) {
      out(missingBinariesMessage(!mariadb, !redisBin));
      return 1;
    }
  }
  mkdirSync(paths(dir).logs, { recursive: true });
  const { credentials, created } = loadOrCreateCredentials(dir);
  const replicas = external ? Math.max(0, o.mysql.length - 1) : o.replicas;
  const layout = { port: o.port, replicas, apps: o.apps, ...(o.basePort !== undefined ? { basePort: o.basePort } : {}) };
  const { ports, moved } = await assignPorts(wantedPorts(layout, readPorts(dir)));
  writePorts(dir, ports);
  if (moved.length > 0) out(`  (ports in use, moved to free ones: ${moved.join(', ')})`);

  const ext = external ? parseMySQLUrls(o.mysql) : undefined;
  const mysqlTargets: MySQLTarget[] =
    ext?.targets ?? Array.from({ length: replicas + 1 }, (_, i) => ({ name: `mysql-${i + 1}`, host: '127.0.0.1', port: ports[`mysql-${i + 1}`] ?? 0 }));
  const primaryName = previous?.mysql.primary && mysqlTargets.some((m) => m.name === previous.mysql.primary) ? previous.mysql.primary : mysqlTargets[0]?.name;
  const ordered = [...mysqlTargets.filter((m) => m.name === primaryName), ...mysqlTargets.filter((m) => m.name !== primaryName)];
  const redisUrl = o.redis ?? `redis://127.0.0.1:${ports['redis']}`;
  const dashboardUrl = `http://127.0.0.1:${ports['dashboard']}`;

  const cluster: ClusterFile = {
    version: 1,
    dir,
    state: 'starting',
    startedAt: new Date().toISOString(),
    balancerUrl: `http://127.0.0.1:${ports['balancer']}`,
    dashboardUrl,
    controlUrl: `${dashboardUrl}/api/control`,
    mysql: { external, instances: mysqlTargets, ...(primaryName ? { primary: primaryName } : {}) },
    redisUrl,
    processes: [],
  };
  const sup = new Supervisor(dir, cluster, out);
  const self = procStartTime(process.pid);
  // argv[1] is resolved, the command line is as typed: the start time is what identifies us.
  sup.fixed.push({ name: 'dramble', role: 'supervisor', pid: process.pid, port: ports['dashboard'] ?? 0, url: dashboardUrl, marker: '', ...(self !== undefined ? { startTime: self } : {}), command: process.execPath, args: process.argv.slice(1) });
  sup.save();

  let dashboard: DashboardHandle | undefined;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((r) => (finish = r));
  const shutdown = (why: string): void => {
    if (sup.isStopping) return;
    out(`\n${why}: stopping every process in reverse order …`);
    void (async () => {
      await dashboard?.close().catch(() => undefined);
      await sup.stopAll();
      out('all stopped.');
      finish(0);
    })();
  };
  process.on('SIGINT', () => shutdown('Ctrl-C'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));

  try {
    out(`dramble up — data in ${dir}`);
    if (mariadb && redisBin) {
      const bin = mariadb;
      await step(out, `MariaDB: ${mysqlTargets.map((m) => `${m.name} on :${m.port}`).join(', ')} (primary ${primaryName}, replicas wired by the db-manager)`, async () => {
        let fresh = 0;
        // One after the other: the first installs the shared template, the others copy it.
        for (const m of mysqlTargets) if (await ensureDatadir(bin, paths(dir).mysqlTemplate, `${paths(dir).mysql(m.name)}/data`)) fresh++;
        if (fresh > 0) out(`  installed ${fresh} fresh data dir(s)`);
        await Promise.all(
          mysqlTargets.map((m, i) => {
            writeInitFile(paths(dir).mysql(m.name), credentials, DATABASE);
            return sup.start(mysqlSpec(dir, bin, m.name, i + 1, m.port, m.name !== primaryName, credentials));
          }),
        );
      });
      const redisPort = ports['redis'] ?? 0;
      await step(out, `Redis on :${redisPort}`, () => sup.start(redisSpec(dir, redisBin, redisPort, credentials)));
    } else {
      out(`using MySQL ${mysqlTargets.map((m) => `${m.host}:${m.port}`).join(', ')} and Redis ${redisUrl.replace(/\/\/[^@]*@/, '//***@')}`);
    }

    const plan = serviceSpecs({
      ports,
      apps: o.apps,
      credentials,
      mysql: ordered,
      redisUrl,
      // Our own Redis has an ACL user per service; one given with --redis is used as it is.
      ...(o.redis === undefined ? { redisUserUrls: { app: redisUserUrl('127.0.0.1', ports['redis'] ?? 0, REDIS_APP_USER, credentials.redisAppPassword), manager: redisUserUrl('127.0.0.1', ports['redis'] ?? 0, REDIS_MANAGER_USER, credentials.redisManagerPassword) } } : {}),
      probeIntervalMs: 500,
      errantExportDir: join(dir, 'errant-transactions'),
      ...(ext ? { externalMySQL: { user: ext.user, password: ext.password, database: ext.database } } : {}),
    });
    const specs = [];
    for (const s of plan) {
      const { spec, dropped } = await serviceSpec(dir, s);
      if (dropped.length > 0) out(`  note: ${s.service} does not know --${dropped.join(', --')}; started without`);
      specs.push(spec);
    }
    const [dbm, ...rest] = specs;
    const apps = rest.filter((s) => s.role === 'app');
    const lb = rest.find((s) => s.role === 'balancer');
    if (!dbm || !lb) throw new Error('plan without db-manager or balancer');

    await step(out, `db-manager (admin ${dbm.adminUrl})`, () => sup.start(dbm));
    await step(out, 'waiting for the db-manager to name a primary and wire the replicas', async () => {
      let t = await waitFor('a primary in the db-manager topology', 90_000, async () => {
        const topo = await fetchTopology(dbm.adminUrl ?? '');
        return topo.primary ? topo : undefined;
      }, 300);
      const wired = (x: typeof t): number => x.instances.filter((i) => i.id !== x.primary && /replica/i.test(i.role)).length;
      if (wired(t) < mysqlTargets.length - 1) {
        t = await waitFor('the replicas to replicate', 60_000, async () => {
          const topo = await fetchTopology(dbm.adminUrl ?? '');
          return topo.primary && wired(topo) >= mysqlTargets.length - 1 ? topo : undefined;
        }, 300).catch(async (err: unknown) => {
          out(`  warning: ${(err as Error).message}; continuing`);
          return fetchTopology(dbm.adminUrl ?? '');
        });
      }
      const p = t.instances.find((i) => i.id === t.primary);
      const name = p ? mysqlTargets.find((m) => instanceOnPort(t, m.port) === p)?.name : undefined;
      if (name) cluster.mysql.primary = name;
      out(`  primary: ${name ?? t.primary}; replicas: ${t.instances.filter((i) => i.id !== t.primary).map((i) => `${i.id} (lag ${i.lagSeconds ?? '?'} s)`).join(', ') || 'none'}`);
    });
    await step(out, `${apps.length} app instance(s): ${apps.map((a) => `${a.name} on :${a.port}`).join(', ')}`, () => Promise.all(apps.map((a) => sup.start(a))).then(() => undefined));
    await step(out, `balancer on ${lb.url}`, () => sup.start(lb));
    dashboard = await step(out, `dashboard on ${dashboardUrl}`, () =>
      startDashboard({ port: ports['dashboard'] ?? 0, cluster, credentials, supervisor: sup, onPrimary: (name) => {
        if (cluster.mysql.primary !== name) {
          cluster.mysql.primary = name;
          sup.save();
        }
      } }),
    );
  } catch (err) {
    if (err instanceof StoppingError || sup.isStopping) return finished;
    out(`\ndramble up failed: ${(err as Error).message}`);
    out('stopping what was started …');
    await dashboard?.close().catch(() => undefined);
    await sup.stopAll();
    return 1;
  }
  cluster.state = 'running';
  sup.save();
  out('');
  out(`Dramble is up (${seconds(Date.now() - t0)}).`);
  out(`  site        ${cluster.balancerUrl}/`);
  out(`  dashboard   ${dashboardUrl}/`);
  out(`  editor      ${cluster.balancerUrl}/login`);
  out(`              email ${credentials.adminEmail}`);
  out(created ? `              password ${credentials.adminPassword}   (stored in ${paths(dir).credentials}, mode 0600)` : `              password in ${paths(dir).credentials}`);
  out(`  state       ${paths(dir).cluster}; logs in ${paths(dir).logs}/`);
  out('  try: dramble status · dramble load · dramble kill primary · dramble kill app-1 · dramble switchover');
  out('Ctrl-C stops everything.');
  return finished;
}
