// Starts one app instance from a config: migrations, pools, Redis, topology follower, first admin,
// the public and admin listeners. Returns handles for tests and main.ts.
import http from 'node:http';
import type { Response } from 'express';
import { Redis } from 'ioredis';
import { AdminServer, createLogger, createRegistry, listenOn, type HostPort, type Logger } from '@dramble/lib';
import type { AppConfig } from './config.js';
import { createRequestListener } from './app.js';
import { Database } from './db/database.js';
import { PrimaryUnavailableError } from './db/errors.js';
import { latestVersion, migrate, schemaVersion } from './db/migrate.js';
import { parseMysqlUrl } from './db/mysql-url.js';
import { TopologyFollower } from './db/topology-follower.js';
import { ContentRepo } from './content/repo.js';
import { IdempotencyStore } from './db/idempotency.js';
import { Users, UserExistsError } from './auth/users.js';
import { Sessions } from './auth/sessions.js';
import { LoginLimiter, type LoginLimits } from './auth/login-limiter.js';
import { declaredHosts } from './routes/host-check.js';
import { PageCache } from './cache/page-cache.js';
import { BalancerPurger, type Purger } from './cache/purge.js';
import { InstanceRegistry } from './cluster/instances.js';
import { createAppMetrics } from './metrics.js';
import { adminApi } from './admin-api.js';
import type { AppDeps } from './routes/context.js';

export interface StartOptions {
  logger?: Logger;
  /** How long a write that lost its primary waits for a new topology (default 2000 ms). */
  failoverWaitMs?: number;
  probeIntervalMs?: number;
  heartbeatIntervalMs?: number;
  loginLimits?: LoginLimits;
  purger?: Purger;
}

export interface AppHandle {
  publicAddress: HostPort;
  adminAddress: HostPort;
  publicUrl: string;
  adminUrl: string;
  /** Schema version after the start-up migrations. */
  schemaVersion: number;
  migrationsApplied: string[];
  db: Database;
  redis: Redis;
  server: http.Server;
  admin: AdminServer;
  close(): Promise<void>;
}

export function redisClient(url: string, logger: Logger, role: string, offlineQueue: boolean): Redis {
  const r = new Redis(url, {
    // Fail fast while Redis is down: pages fall back to MySQL instead of waiting for a reconnect.
    enableOfflineQueue: offlineQueue,
    maxRetriesPerRequest: offlineQueue ? null : 1,
    commandTimeout: offlineQueue ? undefined : 1000,
    connectTimeout: 2000,
    retryStrategy: (n) => Math.min(100 * n, 1000),
    lazyConnect: false,
  });
  let last = 0;
  r.on('error', (err: Error) => {
    if (Date.now() - last > 10_000) logger.warn({ role, err: err.message }, 'redis error');
    last = Date.now();
  });
  return r;
}

function waitReady(r: Redis, ms: number): Promise<void> {
  if (r.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    r.once('ready', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export async function startApp(config: AppConfig, options: StartOptions = {}): Promise<AppHandle> {
  const logger = options.logger ?? createLogger({ name: 'app', level: config.logLevel });
  const primary = parseMysqlUrl(config.mysqlUrl, 'primary');
  const replicas = config.mysqlReplicaUrls.map((u, i) => parseMysqlUrl(u, `replica-${i + 1}`).endpoint);

  const migrated = await migrate({ endpoint: primary.endpoint, credentials: primary.credentials, logger });
  if (migrated.applied.length) logger.info({ applied: migrated.applied, version: migrated.version }, 'migrations applied');
  const expectedVersion = latestVersion();

  const registry = createRegistry('app');
  const holder: { db?: Database } = {};
  const metrics = createAppMetrics(registry, () => holder.db);
  const db = new Database({
    credentials: primary.credentials,
    primary: primary.endpoint,
    replicas,
    logger,
    maxReplicaLagSeconds: config.maxReplicaLagSeconds,
    readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
    failoverWaitMs: options.failoverWaitMs ?? 2000,
    connectTimeoutMs: config.mysqlConnectTimeoutMs,
    writeTimeoutMs: config.writeTimeoutMs,
    probeIntervalMs: options.probeIntervalMs ?? 1000,
    hooks: {
      onRead: (target) => metrics.dbReads.inc({ target }),
      onReplicaLag: (id, lag) => metrics.replicaLag.set({ replica: id }, lag ?? -1),
      onWriteRefused: (reason) => metrics.writesRefused.inc({ reason }),
    },
  });
  holder.db = db;
  await db.probe();
  db.startProbes();

  const redis = redisClient(config.redisUrl, logger, 'commands', false);
  const subscriber = redisClient(config.redisUrl, logger, 'topology', true);
  await waitReady(redis, 3000);

  const onTopologyChange = new Set<() => void>();
  const follower = new TopologyFollower(redis, subscriber, db, logger, {
    onChange: () => onTopologyChange.forEach((f) => f()),
    onMessage: (result) => metrics.topologyMessages.inc({ result }),
    writeStopAfterSilenceMs: config.writeStopAfterRedisSilenceMs,
  });
  await follower.start();

  const users = new Users(db);
  if (config.adminEmail && config.adminPassword) {
    if ((await users.count()) === 0) {
      try {
        await users.create({ email: config.adminEmail, password: config.adminPassword, role: 'admin' });
        logger.info({ email: config.adminEmail }, 'created the first admin');
      } catch (err) {
        if (err instanceof PrimaryUnavailableError) {
          // No primary, or no topology from Redis yet: start serving reads; the next start creates the admin.
          logger.warn({ err: err.message }, 'could not create the first admin now');
        } else if (!(err instanceof UserExistsError)) throw err; // UserExists: another instance created it at the same time
      }
    }
  }

  const startedAt = Date.now();
  const instances = new InstanceRegistry(redis, { name: config.instanceName, node: config.nodeName, startedAt }, options.heartbeatIntervalMs ?? 5000);
  const streams = new Set<Response>();
  const deps: AppDeps = {
    instanceName: config.instanceName,
    nodeName: config.nodeName,
    pageCacheTtlSeconds: config.pageCacheTtlSeconds,
    trustProxy: config.trustProxy,
    publicUrl: config.publicUrl,
    declaredHosts: declaredHosts(config.publicUrl, config.allowedHosts),
    eventStreamMaxConnections: config.eventStreamMaxConnections,
    eventStreamMaxPerIp: config.eventStreamMaxPerIp,
    logger,
    db,
    redis,
    content: new ContentRepo(db),
    // A claim outlives a normal slow write (a few statement timeouts and the failover wait) before a retry may take it
    // over; correctness does not rest on it, since a write completes only a claim it still owns.
    idempotency: new IdempotencyStore(db, config.idempotencyKeyTtlSeconds, Math.ceil((3 * config.writeTimeoutMs + (options.failoverWaitMs ?? 2000)) / 1000) + 1),
    users,
    sessions: new Sessions(redis),
    limiter: new LoginLimiter(redis, options.loginLimits ?? { perIpPerMinute: config.loginAttemptsPerIpPerMinute, freeFailures: config.loginFreeFailures, firstDelaySeconds: config.loginFirstDelaySeconds, maxDelaySeconds: config.loginMaxDelaySeconds }),
    pageCache: new PageCache(redis, { ttlSeconds: config.pageCacheTtlSeconds, maxEntries: config.pageCacheMaxEntries, maxEntryBytes: config.pageCacheMaxEntryBytes }, logger),
    purger: options.purger ?? new BalancerPurger(config.balancerAdminUrl, config.balancerToken, logger),
    instances,
    metrics,
    onTopologyChange,
    streams,
  };

  const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, createRequestListener(deps));
  server.keepAliveTimeout = 65_000; // longer than the balancer's idle timeout, so it never reuses a closing socket
  const admin = new AdminServer({ listen: config.admin, registry, logger, handler: adminApi(config.adminToken, deps.pageCache) });
  admin.addReadinessCheck('mysql-primary', () => db.pingPrimary());
  admin.addReadinessCheck('redis', async () => {
    await redis.ping();
  });
  admin.addReadinessCheck('migrations', async () => {
    const version = await db.read((sql) => schemaVersion(sql), { primary: true }).catch(() => migrated.version);
    if (version < expectedVersion) throw new Error(`schema at version ${version}, this build needs ${expectedVersion}`);
    return { schemaVersion: version };
  });

  const publicAddress = await listenOn(server, config.listen);
  const adminAddress = await admin.listen();
  instances.start();
  logger.info({ listen: publicAddress, admin: adminAddress, instance: config.instanceName, schemaVersion: migrated.version }, 'app started');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      admin.markShuttingDown();
      follower.stop();
      await instances.stop();
      for (const s of streams) s.end();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.closeAllConnections();
        }, config.shutdownDeadlineMs).unref();
        server.close(() => {
          clearTimeout(t);
          resolve();
        });
        server.closeIdleConnections();
      });
      await new Promise<void>((resolve) => admin.server.close(() => resolve()));
      admin.server.closeAllConnections();
      await db.close();
      redis.disconnect();
      subscriber.disconnect();
    })());

  const host = (a: HostPort): string => (a.host.includes(':') ? `[${a.host}]` : a.host);
  return {
    publicAddress,
    adminAddress,
    publicUrl: `http://${host(publicAddress)}:${publicAddress.port}`,
    adminUrl: `http://${host(adminAddress)}:${adminAddress.port}`,
    schemaVersion: migrated.version,
    migrationsApplied: migrated.applied,
    db,
    redis,
    server,
    admin,
    close,
  };
}
