// The MySQL instances the db-manager should watch, found as pods by label selector, so that a scaled
// StatefulSet or a rescheduled pod needs no config change.
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from '@dramble/lib';

/** The Kubernetes API calls this adapter makes (the db-manager's RBAC Role must grant exactly these). */
export const KUBE_RBAC = [{ apiGroup: '', resource: 'pods', verbs: ['list'] }] as const;

export interface PodInstance {
  /** The pod name: stable for a StatefulSet pod across restarts. */
  id: string;
  host: string;
  port: number;
  podName: string;
}

export interface PodInventory {
  list(): Promise<PodInstance[]>;
}

export interface PodInventoryOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** e.g. "app=mysql" */
  labelSelector: string;
  /** MySQL port on every pod. */
  port: number;
  /**
   * Headless Service of the StatefulSet: hosts become "<pod>.<headlessService>" (stable DNS names that
   * follow a rescheduled pod) instead of pod IPs.
   */
  headlessService?: string;
  logger: Logger;
}

/** Pure: the instances a pod list describes. Finished pods are skipped, and without DNS names so are pods that have no IP yet. */
export function instancesFromPods(pods: readonly V1Pod[], port: number, headlessService?: string): PodInstance[] {
  const out: PodInstance[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name;
    if (!name) continue;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    // Pod DNS through a headless Service uses the pod's hostname (= pod name for StatefulSet pods).
    const host = headlessService ? `${pod.spec?.hostname ?? name}.${headlessService}` : pod.status?.podIP;
    if (!host) continue;
    out.push({ id: name, host, port, podName: name });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function createPodInventory(opts: PodInventoryOptions): PodInventory {
  const { namespace, labelSelector } = opts;
  const log = opts.logger.child({ component: 'pod-inventory', namespace, labelSelector });
  const api = opts.kubeConfig.makeApiClient(CoreV1Api);
  let last = '';
  return {
    async list() {
      const res = await api.listNamespacedPod({ namespace, labelSelector });
      const instances = instancesFromPods(res.items, opts.port, opts.headlessService);
      const key = instances.map((i) => `${i.id}=${i.host}:${i.port}`).join(' ');
      if (key !== last) log.info({ instances: key }, 'MySQL pods changed');
      last = key;
      return instances;
    },
  };
}
