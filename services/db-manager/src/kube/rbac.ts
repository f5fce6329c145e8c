// Every Kubernetes API call the db-manager makes, merged from its adapters: what its RBAC Role must grant.
import { KUBE_RBAC as LEASE_ELECTION } from '../ha/lease-election.js';
import { KUBE_RBAC as POD_INVENTORY } from './pod-inventory.js';
import { KUBE_RBAC as POD_LABELER } from './pod-labeler.js';

export interface KubeRbacRule {
  apiGroup: string;
  resource: string;
  verbs: string[];
}

/** Merges rules for the same group and resource; verbs sorted and unique. */
export function mergeRbac(...lists: ReadonlyArray<ReadonlyArray<{ apiGroup: string; resource: string; verbs: readonly string[] }>>): KubeRbacRule[] {
  const byKey = new Map<string, KubeRbacRule>();
  for (const rule of lists.flat()) {
    const key = `${rule.apiGroup}/${rule.resource}`;
    const cur = byKey.get(key) ?? { apiGroup: rule.apiGroup, resource: rule.resource, verbs: [] };
    cur.verbs = [...new Set([...cur.verbs, ...rule.verbs])].sort();
    byKey.set(key, cur);
  }
  return [...byKey.values()].sort((a, b) => `${a.apiGroup}/${a.resource}`.localeCompare(`${b.apiGroup}/${b.resource}`));
}

export const DB_MANAGER_KUBE_RBAC: KubeRbacRule[] = mergeRbac(LEASE_ELECTION, POD_INVENTORY, POD_LABELER);
