// Optional parts chosen by config: Kubernetes pod discovery and role labels, and leader election
// (Kubernetes Lease or Redis lock). main.ts calls this; tests pass their own deps to startManager.
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { ConfigError, type Logger } from '@dramble/lib';
import type { DbManagerConfig } from './config.js';
import type { LeaderElection } from './ha/types.js';
import type { ManagerStartDeps } from './index.js';
import type { Manager } from './manager.js';

export const LEADER_KEY = 'dramble:db-manager:leader';
export const LEASE_NAME = 'dramble-db-manager';

export interface OptionalParts {
  deps: ManagerStartDeps;
  /** Starts what needs the running manager (Kubernetes: following pod membership). */
  attach(manager: Manager): void;
  close(): Promise<void>;
}

export async function optionalParts(config: DbManagerConfig, logger: Logger): Promise<OptionalParts> {
  const identity = config.identity ?? `${hostname()}-${process.pid}`;
  const deps: ManagerStartDeps = { logger };
  const closers: Array<() => Promise<void> | void> = [];
  const needsKube = config.discovery === 'kubernetes' || config.election === 'kubernetes';
  // Loaded only when used: the Kubernetes client alone would double the manager's memory on a Pi.
  const kube = needsKube
    ? await Promise.all([import('./kube/kube-config.js'), import('./kube/pod-inventory.js'), import('./kube/pod-labeler.js'), import('./ha/lease-election.js'), import('./kube/pod-follower.js')])
    : undefined;
  let attach: OptionalParts['attach'] = () => undefined;
  const kubeConfig = kube ? kube[0].loadKubeConfig() : undefined;

  if (config.discovery === 'kubernetes' && kube && kubeConfig) {
    const inventory = kube[1].createPodInventory({ kubeConfig, namespace: config.namespace, labelSelector: config.podSelector, port: config.mysqlPort, logger, ...(config.headlessService ? { headlessService: config.headlessService } : {}) });
    const pods = await inventory.list();
    if (pods.length === 0) throw new ConfigError(`no pods match --pod-selector ${config.podSelector} in namespace ${config.namespace}`, 'podSelector');
    deps.instances = pods.map((p) => ({ id: p.id, host: p.host, port: p.port }));
    const labeler = kube[2].createPodRoleLabeler({ kubeConfig, namespace: config.namespace, logger, labelSelector: config.podSelector });
    // Instance ids are pod names in this mode, so the topology maps straight onto pods.
    deps.onTopologyChange = (t) => labeler.apply({ primaryPod: t.primary?.id ?? null, replicaPods: t.replicas.map((r) => r.id) });
    const follow = kube[4].followPods;
    attach = (manager) => {
      const follower = follow(inventory, (instances) => manager.setInstances(instances), { logger });
      closers.push(() => follower.stop());
    };
  }

  let election: LeaderElection | undefined;
  const ttl = config.electionTtlMs;
  if (config.election === 'kubernetes' && kube && kubeConfig) {
    election = kube[3].createLeaseElection({ kubeConfig, namespace: config.namespace, name: LEASE_NAME, identity, leaseDurationMs: ttl, renewIntervalMs: Math.floor(ttl / 3), logger });
  } else if (config.election === 'redis') {
    if (!config.redisUrl) throw new ConfigError('--election redis needs --redis-url (DBM_REDIS_URL)', 'election');
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
    redis.on('error', (err) => logger.debug({ err: err.message }, 'election redis error'));
    closers.push(() => redis.disconnect());
    const { createRedisLockElection } = await import('./ha/redis-lock-election.js');
    election = createRedisLockElection({ redis, key: LEADER_KEY, identity, ttlMs: ttl, renewIntervalMs: Math.floor(ttl / 3), logger });
  }
  if (election) deps.election = election;
  return {
    deps,
    attach,
    async close() {
      for (const c of closers) await c();
    },
  };
}
