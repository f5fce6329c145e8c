// The app's settings table: one validated object, read from defaults < --config file < APP_* env < flags.
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { z } from 'zod';
import { defineSettings, setting, type ConfigOf } from '@dramble/lib';
import { parseAuthority } from './routes/host-check.js';

const mysqlUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'mysql:' || u.protocol === 'mariadb:') && u.hostname !== '';
  } catch {
    return false;
  }
}, 'must be mysql://user:pass@host:port/database');

// The canonical origin: scheme and authority only, so links are built by appending a path.
const publicUrl = z
  .string()
  .default('http://127.0.0.1:8080')
  .transform((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a URL such as https://dramble.example.org' });
      return z.NEVER;
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) {
      ctx.addIssue({ code: 'custom', message: 'must be http(s)://host[:port] without user, path, query or fragment' });
      return z.NEVER;
    }
    return u.origin;
  });

const allowedHost = z
  .string()
  .transform((v) => v.trim().toLowerCase().replace(/\.$/, ''))
  .refine((v) => parseAuthority(v)?.port === undefined && parseAuthority(v) !== undefined, 'must be a host name or address without a port');

const TRUST_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const CIDR = /^([0-9a-f.:]+)(?:\/(\d{1,3}))?$/i;
// Express's `trust proxy` as a hop count or an address list: never a bare `true`, which would let a
// client that writes its own X-Forwarded-For choose the address the login limiter counts.
const trustProxy = z
  .union([z.number(), z.string(), z.array(z.string())])
  .default(1)
  .transform((v, ctx): number | string[] => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 10) return v;
    const list = Array.isArray(v) ? v : String(v).split(',').map((x) => x.trim()).filter(Boolean);
    if (list.length === 1) {
      const one = list[0]!.toLowerCase();
      if (/^\d+$/.test(one) && Number(one) <= 10) return Number(one);
      // The old boolean form: the balancer is the one proxy in front of the app.
      if (one === 'true') return 1;
      if (one === 'false') return 0;
    }
    const bad = list.filter((a) => !TRUST_NAMES.has(a) && !(CIDR.test(a) && isIP(CIDR.exec(a)![1]!) !== 0));
    if (list.length === 0 || bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `must be a hop count (0-10) or proxy addresses/CIDRs${bad.length ? ` (not: ${bad.join(', ')})` : ''}` });
      return z.NEVER;
    }
    return list;
  });

export const settings = defineSettings({
  listen: { schema: setting.hostPort('127.0.0.1:3000'), env: 'APP_LISTEN', flag: 'listen', doc: 'Public listener (the site and /api/v1) as host:port.' },
  admin: { schema: setting.hostPort('127.0.0.1:9100'), env: 'APP_ADMIN', flag: 'admin', doc: 'Admin listener: /healthz, /readyz, /metrics.' },
  adminToken: { schema: setting.optionalString(), env: 'APP_ADMIN_TOKEN', flag: 'admin-token', doc: 'Bearer token for mutating admin calls.', secret: true },
  mysqlUrl: {
    schema: mysqlUrl,
    env: 'APP_MYSQL_URL',
    flag: 'mysql-url',
    doc: 'Primary as mysql://user:pass@host:port/db, used until the db-manager publishes a topology; its user, password and database are used for every host.',
    secret: true,
  },
  mysqlReplicaUrls: {
    schema: setting.list(mysqlUrl),
    env: 'APP_MYSQL_REPLICA_URL',
    flag: 'mysql-replica-url',
    list: true,
    doc: 'Replicas to read from until a topology arrives (repeatable; comma-separated in the environment).',
    secret: true,
  },
  redisUrl: { schema: setting.url(), env: 'APP_REDIS_URL', flag: 'redis-url', doc: 'Redis for sessions, the page cache, instance heartbeats and the topology channel.', secret: true },
  balancerAdminUrl: { schema: setting.optionalString(), env: 'APP_BALANCER_ADMIN_URL', flag: 'balancer-admin-url', doc: 'Balancer admin base URL; edits POST /api/cache/purge there (unset: no purge).' },
  balancerToken: { schema: setting.optionalString(), env: 'APP_BALANCER_TOKEN', flag: 'balancer-token', doc: 'The balancer\'s purge token (its --purge-token), sent with POST /api/cache/purge; the app never holds its drain token.', secret: true },
  instanceName: { schema: setting.string(hostname()), env: 'APP_INSTANCE_NAME', flag: 'instance-name', doc: 'Name shown on /cluster and in the X-App-Instance header.', defaultDoc: '(hostname)' },
  nodeName: { schema: setting.string(''), env: 'APP_NODE_NAME', flag: 'node-name', doc: 'Kubernetes node (Pi) this instance runs on, shown on /cluster.' },
  adminEmail: { schema: setting.optionalString(), env: 'APP_ADMIN_EMAIL', flag: 'admin-email', doc: 'First admin, created at start when no user exists (with --admin-password).' },
  adminPassword: { schema: setting.optionalString(), env: 'APP_ADMIN_PASSWORD', flag: 'admin-password', doc: 'Password of the first admin (at least 10 characters). There is no default password.', secret: true },
  maxReplicaLagSeconds: { schema: setting.number(10, 0), env: 'APP_MAX_REPLICA_LAG_SECONDS', flag: 'max-replica-lag-seconds', doc: 'Replicas lagging more than this are skipped for reads.' },
  readYourWritesTimeoutMs: { schema: setting.int(500, 0, 60_000), env: 'APP_READ_YOUR_WRITES_TIMEOUT_MS', flag: 'read-your-writes-timeout-ms', doc: 'How long a read after a write waits for a replica to reach that write (MASTER_GTID_WAIT) before reading from the primary.' },
  // Writes against a hung or unreachable primary, and against a topology that may be out of date.
  mysqlConnectTimeoutMs: { schema: setting.int(2000, 100, 60_000), env: 'APP_MYSQL_CONNECT_TIMEOUT_MS', flag: 'mysql-connect-timeout-ms', doc: 'Bound on opening a MySQL connection (TCP and handshake), so a partitioned or hung host fails fast.' },
  writeTimeoutMs: { schema: setting.int(5000, 100, 120_000), env: 'APP_WRITE_TIMEOUT_MS', flag: 'write-timeout-ms', doc: 'Bound on each statement of a write, COMMIT included, and of a read; past it the connection is dropped and the request answers 503 with Retry-After.' },
  writeStopAfterRedisSilenceMs: { schema: setting.int(10_000, 0, 3_600_000), env: 'APP_WRITE_STOP_AFTER_REDIS_SILENCE_MS', flag: 'write-stop-after-redis-silence-ms', doc: 'Writes stop (503) once Redis, which carries the topology, has not answered for this long: a failover may have happened unheard. Reads go on. 0: never stop (unsafe).' },
  idempotencyKeyTtlSeconds: { schema: setting.int(86_400, 60, 2_592_000), env: 'APP_IDEMPOTENCY_KEY_TTL_SECONDS', flag: 'idempotency-key-ttl-seconds', doc: 'How long the content API remembers an Idempotency-Key and the response it gave.' },
  pageCacheTtlSeconds: { schema: setting.int(30, 0, 86_400), env: 'APP_PAGE_CACHE_TTL_SECONDS', flag: 'page-cache-ttl-seconds', doc: 'Lifetime of rendered anonymous pages in Redis, and the s-maxage the balancer may cache them for (0: no page cache).' },
  // --- the edge: public name, trusted proxies, and limits a hostile client cannot push past ---
  publicUrl: {
    schema: publicUrl,
    env: 'APP_PUBLIC_URL',
    flag: 'public-url',
    doc: 'The site\'s canonical origin (http[s]://host[:port]): every absolute link (feed, sitemap, canonical link) is built from it, never from the request; https makes cookies Secure and sends HSTS.',
  },
  allowedHosts: {
    schema: setting.list(allowedHost),
    env: 'APP_ALLOWED_HOSTS',
    flag: 'allowed-host',
    list: true,
    doc: 'Host names besides the public URL\'s that are served (repeatable; comma-separated in the environment); any other Host gets 421.',
  },
  trustProxy: {
    schema: trustProxy,
    env: 'APP_TRUST_PROXY',
    flag: 'trust-proxy',
    doc: 'Proxies in front of the app whose X-Forwarded-For/-Proto/-Host count: a hop count (0: none; true means 1) or comma-separated proxy addresses/CIDRs.',
  },
  pageCacheMaxEntries: { schema: setting.int(500, 1), env: 'APP_PAGE_CACHE_MAX_ENTRIES', flag: 'page-cache-max-entries', doc: 'Most pages the Redis page cache holds; the oldest are dropped beyond it.' },
  pageCacheMaxEntryBytes: { schema: setting.int(131_072, 1024), env: 'APP_PAGE_CACHE_MAX_ENTRY_BYTES', flag: 'page-cache-max-entry-bytes', doc: 'Larger pages are not put in the page cache (with the entry cap this bounds its memory in Redis).' },
  loginAttemptsPerIpPerMinute: { schema: setting.int(30, 1), env: 'APP_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE', flag: 'login-attempts-per-ip-per-minute', doc: 'Login attempts one client address may make per minute, for any accounts.' },
  loginFreeFailures: { schema: setting.int(5, 1), env: 'APP_LOGIN_FREE_FAILURES', flag: 'login-free-failures', doc: 'Failed logins for one account from one address before that pair must wait.' },
  loginFirstDelaySeconds: { schema: setting.int(2, 1), env: 'APP_LOGIN_FIRST_DELAY_SECONDS', flag: 'login-first-delay-seconds', doc: 'The wait after the last free failure; it doubles with each further failure of the same account from the same address.' },
  loginMaxDelaySeconds: { schema: setting.int(900, 1), env: 'APP_LOGIN_MAX_DELAY_SECONDS', flag: 'login-max-delay-seconds', doc: 'Longest wait an account and address pair is made to keep after repeated failures.' },
  eventStreamMaxConnections: { schema: setting.int(200, 1), env: 'APP_EVENT_STREAM_MAX_CONNECTIONS', flag: 'event-stream-max-connections', doc: 'Open /cluster/events streams this instance serves at once; beyond it 503 with Retry-After.' },
  eventStreamMaxPerIp: { schema: setting.int(4, 1), env: 'APP_EVENT_STREAM_MAX_PER_IP', flag: 'event-stream-max-per-ip', doc: 'Open /cluster/events streams per client address; beyond it 429 with Retry-After.' },
  logLevel: { schema: setting.enumOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'), env: 'APP_LOG_LEVEL', flag: 'log-level', doc: 'Log level.' },
  shutdownDeadlineMs: { schema: setting.int(10_000, 0), env: 'APP_SHUTDOWN_DEADLINE_MS', flag: 'shutdown-deadline-ms', doc: 'How long in-flight requests may finish after SIGTERM.' },
});

export type AppConfig = ConfigOf<typeof settings>;
