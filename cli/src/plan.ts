// What a local cluster consists of, as plain data: every process with its name, role, ports and
// the flags it gets. `dramble up` executes this plan; tests read it without starting anything.
import type { Credentials, Role } from './state.js';
import type { Flags, ServiceName } from './services.js';

export const DATABASE = 'dramble';
const HOST = '127.0.0.1';

export interface MySQLTarget {
  name: string;
  host: string;
  port: number;
}

export interface ServiceSpec {
  name: string;
  role: Role;
  service: ServiceName;
  port: number;
  url?: string;
  adminUrl: string;
  flags: Flags;
}

export interface PlanInput {
  ports: Record<string, number>;
  apps: number;
  credentials: Credentials;
  mysql: MySQLTarget[];
  redisUrl: string;
  /** The local Redis's ACL users (see local/redis-acl.ts); without it (--redis) every service uses redisUrl. */
  redisUserUrls?: { app: string; manager: string };
  /** With --mysql: the user the services log in with (else the generated ones). */
  externalMySQL?: { user: string; password: string; database: string };
  probeIntervalMs: number;
  /** Where the db-manager writes the errant transactions it exports before a re-seed (under --dir, never the working directory). */
  errantExportDir?: string;
}

function port(ports: Record<string, number>, key: string): number {
  const p = ports[key];
  if (p === undefined) throw new Error(`no port assigned for ${key}`);
  return p;
}

function mysqlUrl(user: string, password: string, t: MySQLTarget, db: string): string {
  return `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${t.host}:${t.port}/${db}`;
}

/** The three services in start order: db-manager, apps, balancer. */
export function serviceSpecs(input: PlanInput): ServiceSpec[] {
  const c = input.credentials;
  const ext = input.externalMySQL;
  const db = ext?.database ?? DATABASE;
  const appUser = ext?.user ?? c.appUser;
  const appPassword = ext?.password ?? c.appPassword;
  const balancerAdmin = port(input.ports, 'balancer-admin');
  const dbmAdmin = port(input.ports, 'db-manager-admin');
  const [first, ...rest] = input.mysql;
  if (!first) throw new Error('a cluster needs at least one MySQL instance');

  const specs: ServiceSpec[] = [
    {
      name: 'db-manager',
      role: 'db-manager',
      service: 'db-manager',
      port: dbmAdmin,
      adminUrl: `http://${HOST}:${dbmAdmin}`,
      flags: [
        ['admin', `${HOST}:${dbmAdmin}`],
        ['admin-token', c.dbManagerToken],
        ['instances', input.mysql.map((m) => `${m.host}:${m.port}`).join(',')],
        ['primary', `${first.host}:${first.port}`],
        ['mysql-user', ext?.user ?? c.mysqlUser],
        ['mysql-password', ext?.password ?? c.mysqlPassword],
        ['replication-user', ext?.user ?? c.replicationUser],
        ['replication-password', ext?.password ?? c.replicationPassword],
        ['redis-url', input.redisUserUrls?.manager ?? input.redisUrl],
        ['probe-interval-ms', String(input.probeIntervalMs)],
        ...(input.errantExportDir ? [['errant-export-dir', input.errantExportDir] as [string, string]] : []),
      ],
    },
  ];
  const lb = port(input.ports, 'balancer');
  for (let i = 1; i <= input.apps; i++) {
    const p = port(input.ports, `app-${i}`);
    const a = port(input.ports, `app-${i}-admin`);
    specs.push({
      name: `app-${i}`,
      role: 'app',
      service: 'app',
      port: p,
      url: `http://${HOST}:${p}`,
      adminUrl: `http://${HOST}:${a}`,
      flags: [
        ['listen', `${HOST}:${p}`],
        ['admin', `${HOST}:${a}`],
        ['admin-token', c.appToken],
        ['mysql-url', mysqlUrl(appUser, appPassword, first, db)],
        ...rest.map((r): [string, string] => ['mysql-replica-url', mysqlUrl(appUser, appPassword, r, db)]),
        ['redis-url', input.redisUserUrls?.app ?? input.redisUrl],
        ['balancer-admin-url', `http://${HOST}:${balancerAdmin}`],
        ['balancer-token', c.balancerPurgeToken],
        ['instance-name', `app-${i}`],
        ['admin-email', c.adminEmail],
        ['admin-password', c.adminPassword],
        // One proxy (the balancer) in front: X-Forwarded-For is trusted for exactly one hop.
        ['trust-proxy', '1'],
        // Every absolute link (feed, sitemap, canonical) names the balancer, never a request's Host;
        // localhost is the other name the site answers to (anything else gets 421).
        ['public-url', `http://${HOST}:${lb}`],
        ['allowed-host', 'localhost'],
      ],
    });
  }
  specs.push({
    name: 'balancer',
    role: 'balancer',
    service: 'balancer',
    port: lb,
    url: `http://${HOST}:${lb}`,
    adminUrl: `http://${HOST}:${balancerAdmin}`,
    flags: [
      ['listen', `${HOST}:${lb}`],
      ['admin', `${HOST}:${balancerAdmin}`],
      ['purge-token', c.balancerPurgeToken],
      ['drain-token', c.balancerDrainToken],
      ...specs.filter((s) => s.role === 'app').map((s): [string, string] => ['backend', `${s.url}#${s.name}`]),
      // The app answers /healthz only on its admin port (one per app), so checks use a cheap public page.
      ['health-path', '/robots.txt'],
      ['health-interval-ms', '1000'],
      // The names the local site is reached by (loopback addresses are accepted anyway); any
      // other Host gets 421 and never reaches an app or the cache.
      ['server-name', 'localhost'],
      ['server-name', HOST],
    ],
  });
  return specs;
}

/** Parses --mysql URLs (mysql://user:pass@host:port/db); every URL is one instance. */
export function parseMySQLUrls(urls: string[]): { targets: MySQLTarget[]; user: string; password: string; database: string } {
  const targets: MySQLTarget[] = [];
  let user = '';
  let password = '';
  let database = DATABASE;
  urls.forEach((raw, i) => {
    const u = new URL(raw);
    if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') throw new Error(`--mysql ${raw}: must be mysql://user:pass@host:port/db`);
    if (i === 0) {
      user = decodeURIComponent(u.username);
      password = decodeURIComponent(u.password);
      if (u.pathname.length > 1) database = decodeURIComponent(u.pathname.slice(1));
    }
    targets.push({ name: `mysql-${i + 1}`, host: u.hostname, port: Number(u.port || 3306) });
  });
  if (!user) throw new Error('--mysql needs a user in the URL (mysql://user:pass@host:port/db)');
  return { targets, user, password, database };
}
