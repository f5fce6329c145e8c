// The app's settings table: one validated object, read from defaults < --config file < APP_* env < flags.
import { hostname } from 'node:os';
import { z } from 'zod';
import { defineSettings, setting, type ConfigOf } from '@dramble/lib';

const mysqlUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'mysql:' || u.protocol === 'mariadb:') && u.hostname !== '';
  } catch {
    return false;
  }
}, 'must be mysql://user:pass@host:port/database');

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
  pageCacheTtlSeconds: { schema: setting.int(30, 0, 86_400), env: 'APP_PAGE_CACHE_TTL_SECONDS', flag: 'page-cache-ttl-seconds', doc: 'Lifetime of rendered anonymous pages in Redis, and the s-maxage the balancer may cache them for (0: no page cache).' },
  trustProxy: { schema: setting.bool(false), env: 'APP_TRUST_PROXY', flag: 'trust-proxy', doc: 'Trust X-Forwarded-* from the balancer (client IP for rate limits, https for Secure cookies).' },
  logLevel: { schema: setting.enumOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'), env: 'APP_LOG_LEVEL', flag: 'log-level', doc: 'Log level.' },
  shutdownDeadlineMs: { schema: setting.int(10_000, 0), env: 'APP_SHUTDOWN_DEADLINE_MS', flag: 'shutdown-deadline-ms', doc: 'How long in-flight requests may finish after SIGTERM.' },
});

export type AppConfig = ConfigOf<typeof settings>;
