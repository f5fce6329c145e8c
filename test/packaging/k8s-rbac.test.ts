// The Roles grant exactly the Kubernetes API calls the code makes. Every module that talks to the API
// exports KUBE_RBAC ({ apiGroup, resource, verbs }) and its own tests check that it calls nothing
// beyond it; here the Roles bound to each service's ServiceAccount must equal the union of those
// lists, so a new call without a rule (or a rule nothing uses) fails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builds, root, serviceOfImage, workloads, SERVICE_NAMES, type KubeObj, type ServiceName } from './support.js';

interface RbacRule {
  apiGroup: string;
  resource: string;
  verbs: readonly string[];
}

/** Files the issue names as the ones calling the Kubernetes API; more are picked up by the scan. */
const KNOWN_KUBE_MODULES = [
  'services/balancer/src/discovery/kubernetes.ts',
  'services/db-manager/src/ha/lease-election.ts',
  'services/db-manager/src/kube/pod-labeler.ts',
  'services/db-manager/src/kube/pod-inventory.ts',
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** Every source file of a service that exports KUBE_RBAC. */
function kubeModules(svc: ServiceName): string[] {
  return tsFiles(join(root, 'services', svc, 'src'))
    .filter((f) => /export\s+const\s+KUBE_RBAC\b/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(root, f))
    .sort();
}

async function codeTriples(svc: ServiceName): Promise<string[]> {
  const out = new Set<string>();
  for (const file of kubeModules(svc)) {
    const mod = (await import(pathToFileURL(join(root, file)).href)) as { KUBE_RBAC?: readonly RbacRule[] };
    assert.ok(Array.isArray(mod.KUBE_RBAC), `${file} exports KUBE_RBAC as an array`);
    for (const r of mod.KUBE_RBAC) for (const v of r.verbs) out.add(`${r.apiGroup}/${r.resource}:${v}`);
  }
  return [...out].sort();
}

/** (apiGroup/resource:verb) granted to a ServiceAccount through RoleBindings in the build. */
function grantedTriples(objs: KubeObj[], serviceAccount: string): string[] {
  const out = new Set<string>();
  for (const rb of objs.filter((o) => o.kind === 'RoleBinding')) {
    const b = rb as KubeObj & { subjects: { kind: string; name: string }[]; roleRef: { kind: string; name: string } };
    if (!b.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount)) continue;
    assert.equal(b.roleRef.kind, 'Role', `RoleBinding ${rb.metadata.name} binds a namespaced Role`);
    const role = objs.find((o) => o.kind === 'Role' && o.metadata.name === b.roleRef.name);
    assert.ok(role, `Role ${b.roleRef.name} exists`);
    for (const r of (role as KubeObj & { rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[] }).rules) {
      for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${g}/${res}:${v}`);
    }
  }
  return [...out].sort();
}

describe('RBAC matches the Kubernetes calls in the code', () => {
  it('every module the issue names exports KUBE_RBAC', () => {
    const found = SERVICE_NAMES.flatMap(kubeModules);
    for (const f of KNOWN_KUBE_MODULES) assert.ok(found.includes(f), `${f} exists and exports KUBE_RBAC`);
  });

  for (const [overlay, objs] of builds()) {
    it(`${overlay}: each service's Roles grant exactly the union of its KUBE_RBAC lists`, async () => {
      for (const svc of SERVICE_NAMES) {
        const pods = workloads(objs).filter((w) => w.pod.containers.some((c) => serviceOfImage(c.image) === svc));
        assert.equal(pods.length, 1, `one workload runs ${svc}`);
        const sa = pods[0]!.pod.serviceAccountName ?? 'default';
        const want = await codeTriples(svc);
        assert.deepEqual(grantedTriples(objs, sa), want, `${svc} (ServiceAccount ${sa})`);
        if (want.length === 0) assert.equal(pods[0]!.pod.automountServiceAccountToken, false, `${svc} calls no API and mounts no token`);
      }
    });

    it(`${overlay}: no cluster-wide grants and no wildcards`, () => {
      assert.ok(!objs.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'));
      for (const role of objs.filter((o) => o.kind === 'Role')) {
        for (const r of (role as KubeObj & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }).rules) {
          assert.ok(![...r.apiGroups, ...r.resources, ...r.verbs].includes('*'), `Role ${role.metadata.name} has a wildcard`);
        }
      }
    });
  }
});
