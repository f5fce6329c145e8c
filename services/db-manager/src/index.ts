// The db-manager as a library: settings for docs/packaging and startManager() for main.ts and tests.
import { AdminServer, createLogger, createRegistry, parseHostPort, type HostPort, type Logger } from '@dramble/lib';
import type { Registry } from 'prom-client';
import { createApi } from './api/app.js';
import type { DbManagerConfig } from './config.js';
import type { LeaderElection } from './ha/types.js';
import { Manager, type ManagerOptions } from './manager.js';
import type { Target } from './probe/connection.js';
import { createLocalPublisher, createRedisPublisher, type PublishedTopology, type TopologyPublisher } from './publish/redis-topology.js';
import { ConfigError } from '@dramble/lib';

export { settings, type DbManagerConfig } from './config.js';
export { Manager, type TopologyView, type InstanceView } from './manager.js';
export { analyze, type Analysis, type DetectedProblem } from './analysis/analyze.js';
export { PROBLEMS, type ProblemCode } from './analysis/problems.js';
export type { TopologySnapshot, InstanceSnapshot } from './analysis/snapshot.js';
export { bootstrap } from './recovery/bootstrap.js';
export * from './gtid/gtid-set.js';
export { errantBetween, compareGtidText } from './gtid/positions.js';
export { parseMysqlGtidSet, formatMysqlGtidSet, subtract as subtractMysqlGtidSet } from './gtid/mysql-gtid-set.js';
export { mariadb, mysql, flavorFor } from './flavor/index.js';
export { TOPOLOGY_KEY, TOPOLOGY_CHANNEL, type PublishedTopology } from './publish/redis-topology.js';
export type { LeaderElection } from './ha/types.js';

export interface ManagerStartDeps {
  logger?: Logger;
  registry?: Registry;
  election?: LeaderElection;
  onTopologyChange?: (t: PublishedTopology) => Promise<void> | void;
  publisher?: TopologyPublisher;
  /** Overrides config.instances (e.g. from Kubernetes pod discovery). */
  instances?: Target[];
}

export interface RunningManager {
  manager: Manager;
  admin: AdminServer;
  adminAddress: HostPort;
  adminUrl: string;
  close(): Promise<void>;
}

export function targetsOf(list: string[]): Target[] {
  return list.map((s) => {
    const hp = parseHostPort(s);
    if (!hp) throw new ConfigError(`instance "${s}" is not host:port`, 'instances');
    return { id: `${hp.host}:${hp.port}`, host: hp.host, port: hp.port };
  });
}

export function managerOptions(config: DbManagerConfig, instances: Target[]): ManagerOptions {
  return {
    instances,
    credentials: { user: config.mysqlUser, password: config.mysqlPassword },
    replication: { user: config.replicationUser, password: config.replicationPassword },
    preferredPrimary: config.primary ? targetsOf([config.primary])[0]!.id : undefined,
    flavor: config.flavor,
    probeIntervalMs: config.probeIntervalMs,
    probeTimeoutMs: config.probeTimeoutMs,
    failoverAfterProbes: config.failoverAfterProbes,
    failoverMinMs: config.failoverMinMs,
    failoverCooldownMs: config.failoverCooldownMs,
    maxPromotionLagSeconds: config.maxPromotionLagSeconds,
    laggingReplicaSeconds: config.laggingReplicaSeconds,
    autoRejoin: config.autoRejoin,
    semiSync: config.semiSync,
    replicaSilenceMs: config.replicaSilenceMs,
    bootstrap: config.bootstrap,
    switchoverTimeoutMs: config.switchoverTimeoutMs,
    hookCommand: config.hookCommand,
    reseedErrant: config.reseedErrant,
    errantExportDir: config.errantExportDir,
  };
}

/** Starts the loop and the admin listener (/healthz, /readyz, /metrics, /api/*). */
export async function startManager(config: DbManagerConfig, deps: ManagerStartDeps = {}): Promise<RunningManager> {
  const logger = deps.logger ?? createLogger({ name: 'db-manager', level: config.logLevel });
  const registry = deps.registry ?? createRegistry('db-manager');
  const instances = deps.instances ?? targetsOf(config.instances);
  if (instances.length === 0) throw new ConfigError('no MySQL instances: set --instances (DBM_INSTANCES)', 'instances');
  const publisher = deps.publisher ?? (config.redisUrl ? createRedisPublisher(config.redisUrl, logger) : createLocalPublisher());
  const manager = new Manager(managerOptions(config, instances), {
    logger,
    registry,
    publisher,
    ...(deps.election ? { election: deps.election } : {}),
    ...(deps.onTopologyChange ? { onTopologyChange: deps.onTopologyChange } : {}),
  });
  const admin = new AdminServer({ listen: config.admin, registry, logger, handler: createApi(manager, { adminToken: config.adminToken, logger }) });
  admin.addReadinessCheck('probes', () => {
    const v = manager.view();
    if (!v.instances.some((i) => i.reachable)) throw new Error('no instance reachable yet');
    return { primary: v.primary, leader: v.leader };
  });
  const adminAddress = await admin.listen();
  await deps.election?.start();
  manager.start();
  let closed: Promise<void> | undefined;
  return {
    manager,
    admin,
    adminAddress,
    adminUrl: `http://${adminAddress.host}:${adminAddress.port}`,
    close() {
      closed ??= (async () => {
        await manager.close();
        await deps.election?.stop();
        await new Promise<void>((resolve) => {
          admin.server.close(() => resolve());
          admin.server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}
