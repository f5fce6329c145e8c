// Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it: read the Lease, take it
// when it is free or its holder has not renewed for a whole lease duration (measured on our own clock, so
// clock skew between nodes does not matter), write with the read resourceVersion so that of two candidates
// only one wins, and hand it back on stop.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '@dramble/lib';
import { createElectionLoop, type LockBackend } from './election-loop.js';
import type { LeaderElection } from './types.js';

/** The Kubernetes API calls this adapter makes (the db-manager's RBAC Role must grant exactly these). */
export const KUBE_RBAC = [{ apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'create', 'update'] }] as const;

export interface LeaseElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Name of the Lease object, e.g. "dramble-db-manager". */
  name: string;
  /** Who we are, usually the pod name. */
  identity: string;
  /** How long a holder that stops renewing keeps the lease (written to the Lease in whole seconds). */
  leaseDurationMs: number;
  renewIntervalMs: number;
  /** How often a standby checks the lease (default renewIntervalMs). */
  retryIntervalMs?: number;
  /** The leader steps down when it could not renew for this long (default two thirds of the lease duration). */
  renewDeadlineMs?: number;
  logger: Logger;
}

function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function createLeaseElection(opts: LeaseElectionOptions): LeaderElection {
  const { namespace, name, identity } = opts;
  const log = opts.logger.child({ component: 'lease-election', lease: `${namespace}/${name}` });
  const api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
  const leaseSeconds = Math.max(1, Math.ceil(opts.leaseDurationMs / 1000));
  // When the Lease record last changed, by our clock: a holder is dead once it has not changed for a lease duration.
  let observed = { record: '', at: 0 };

  const observe = (lease: V1Lease): void => {
    const s = lease.spec ?? {};
    const record = `${s.holderIdentity ?? ''}|${String(s.renewTime ?? '')}|${s.leaseDurationSeconds ?? ''}`;
    if (record !== observed.record) observed = { record, at: Date.now() };
  };

  const read = async (): Promise<V1Lease | null> => {
    try {
      return await api.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (statusCode(err) === 404) return null;
      throw err;
    }
  };

  const backend: LockBackend = {
    async acquireOrRenew() {
      const lease = await read();
      const now = new V1MicroTime();
      if (!lease) {
        try {
          const created = await api.createNamespacedLease({
            namespace,
            body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: leaseSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } },
          });
          observe(created);
          return identity;
        } catch (err) {
          if (statusCode(err) === 409) return null; // another candidate created it first; read it next round
          throw err;
        }
      }
      observe(lease);
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity || null;
      const durationMs = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
      if (holder !== null && holder !== identity && Date.now() < observed.at + durationMs) return holder;
      const taking = holder !== identity;
      if (taking && holder !== null) log.info({ previous: holder }, 'taking over an expired lease');
      const body: V1Lease = {
        ...lease,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: leaseSeconds,
          acquireTime: taking ? now : spec.acquireTime,
          renewTime: now,
          leaseTransitions: (spec.leaseTransitions ?? 0) + (taking ? 1 : 0),
        },
      };
      try {
        // metadata.resourceVersion from the read makes this a compare-and-swap: 409 if anyone wrote in between.
        observe(await api.replaceNamespacedLease({ namespace, name, body }));
        return identity;
      } catch (err) {
        if (statusCode(err) === 409) return holder;
        throw err;
      }
    },
    async release() {
      const lease = await read();
      if (!lease || lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime();
      // Same shape as client-go's release: empty holder, so a standby takes over on its next check.
      await api.replaceNamespacedLease({
        namespace,
        name,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now } },
      });
      log.info('released the lease');
    },
  };

  return createElectionLoop({
    identity,
    backend,
    renewIntervalMs: opts.renewIntervalMs,
    retryIntervalMs: opts.retryIntervalMs,
    renewDeadlineMs: opts.renewDeadlineMs ?? Math.floor((opts.leaseDurationMs * 2) / 3),
    logger: log,
  });
}
