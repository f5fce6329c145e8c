// Marks MySQL pods with their replication role (label dramble.io/role=primary|replica) so that the
// mysql-primary and mysql-replicas Services follow failovers. Order matters: the old primary is demoted
// before the new one is promoted, so the primary Service never selects two writable pods.
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '@dramble/lib';

/** The Kubernetes API calls this adapter makes (the db-manager's RBAC Role must grant exactly these). */
export const KUBE_RBAC = [{ apiGroup: '', resource: 'pods', verbs: ['list', 'patch'] }] as const;

export const ROLE_LABEL = 'dramble.io/role';

export interface PodRoles {
  primaryPod: string | null;
  replicaPods: string[];
}

export interface PodRoleLabeler {
  /**
   * Makes the labels match: primaryPod gets role=primary, replicaPods role=replica, and any other pod that
   * carries the label loses it (a fenced or removed instance must leave both Services).
   */
  apply(roles: PodRoles): Promise<void>;
}

export interface PodRoleLabelerOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  logger: Logger;
  /** Only touch pods matching this selector as well (e.g. "app=mysql"); default: any pod with the role label. */
  labelSelector?: string;
}

export class PodLabelError extends Error {
  constructor(
    readonly pod: string,
    readonly role: string | null,
    override readonly cause: unknown,
  ) {
    super(`could not set ${ROLE_LABEL}=${role ?? '(none)'} on pod ${pod}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'PodLabelError';
  }
}

function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function createPodRoleLabeler(opts: PodRoleLabelerOptions): PodRoleLabeler {
  const { namespace } = opts;
  const log = opts.logger.child({ component: 'pod-labeler', namespace });
  const api = opts.kubeConfig.makeApiClient(CoreV1Api);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const selector = opts.labelSelector ? `${opts.labelSelector},${ROLE_LABEL}` : ROLE_LABEL;

  /** Sets (or with null removes) the role label; a pod that no longer exists needs no label and is skipped unless required. */
  const label = async (pod: string, role: string | null, required: boolean): Promise<void> => {
    try {
      await api.patchNamespacedPod({ namespace, name: pod, body: { metadata: { labels: { [ROLE_LABEL]: role } } } }, mergePatch);
      log.info({ pod, role }, role ? `labelled pod ${role}` : 'removed role label');
    } catch (err) {
      if (statusCode(err) === 404 && !required) {
        log.info({ pod }, 'pod is gone; no label to change');
        return;
      }
      throw new PodLabelError(pod, role, err);
    }
  };

  return {
    async apply({ primaryPod, replicaPods }) {
      const replicas = new Set(replicaPods.filter((p) => p !== primaryPod));
      const list = await api.listNamespacedPod({ namespace, labelSelector: selector });
      const current = new Map<string, string>();
      for (const p of list.items) {
        const name = p.metadata?.name;
        const role = p.metadata?.labels?.[ROLE_LABEL];
        if (name && role !== undefined) current.set(name, role);
      }
      const want = (pod: string): string | null => (pod === primaryPod ? 'primary' : replicas.has(pod) ? 'replica' : null);

      // 1. Demote every other pod still labelled primary, and wait for it, before anything is promoted.
      const demote = [...current].filter(([pod, role]) => role === 'primary' && pod !== primaryPod).map(([pod]) => pod);
      await Promise.all(demote.map((pod) => label(pod, want(pod), false)));
      // 2. Promote.
      if (primaryPod !== null && current.get(primaryPod) !== 'primary') await label(primaryPod, 'primary', true);
      // 3. Replicas, and labels on pods that are neither.
      const rest: Array<[string, string | null]> = [];
      for (const pod of replicas) if (current.get(pod) !== 'replica') rest.push([pod, 'replica']);
      for (const [pod, role] of current) {
        if (role !== 'primary' && want(pod) === null) rest.push([pod, null]);
      }
      await Promise.all(rest.map(([pod, role]) => label(pod, role, false)));
    },
  };
}
