// Policy checks over the built manifests: what every pod must have to run safely on a 2 GB Pi, and
// that the pieces refer to each other correctly (selectors, ports, secrets, network policies).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  builds,
  exampleSecret,
  find,
  memoryBytes,
  resolveEnv,
  selectorMatches,
  serviceOfImage,
  workloads,
  type Container,
  type KubeObj,
  type LabelSelector,
  type PodSpec,
  type Probe,
  type Workload,
} from './support.js';
import { ROLE_LABEL } from '../../services/db-manager/src/kube/pod-labeler.js';
import { LEASE_NAME } from '../../services/db-manager/src/wiring.js';

interface RoleRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Verbs RBAC cannot limit by resourceNames: collection reads (list, watch) and create (no name yet). */
const UNNAMEABLE_VERBS = new Set(['list', 'watch', 'create', 'deletecollection']);

function rulesOf(objs: KubeObj[], role: string): RoleRule[] {
  return ((find(objs, 'Role', role) as (KubeObj & { rules: RoleRule[] }) | undefined)?.rules ?? []);
}

/** The Secret keys a container reads through secretKeyRef. */
function secretKeys(c: Container): string[] {
  return (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.key] : []));
}

const MiB = 2 ** 20;
/** Pis in the cluster the pi overlay is for. */
const PI_NODES = 4;
/** Memory limits of our pods that may land on one 2 GB Pi: the rest is for the OS and k3s (k8s/README.md). */
const PI_POD_BUDGET = 1280 * MiB;
/** Labels the db-manager sets on MySQL pods at run time (not in the pod template). */
const RUNTIME_LABELS: Record<string, string[]> = { [ROLE_LABEL]: ['primary', 'replica'] };

const ADMIN_PORTS: Record<string, number> = { balancer: 9080, app: 9100, 'db-manager': 9090 };

function containersOf(w: Workload): { c: Container; init: boolean }[] {
  return [...(w.pod.initContainers ?? []).map((c) => ({ c, init: true })), ...w.pod.containers.map((c) => ({ c, init: false }))];
}

function portNumber(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return c.ports?.some((p) => p.containerPort === port) ? port : undefined;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

function podMemoryLimit(w: Workload): number {
  const sum = w.pod.containers.reduce((n, c) => n + memoryBytes(c.resources?.limits?.memory ?? '0'), 0);
  const init = Math.max(0, ...(w.pod.initContainers ?? []).map((c) => memoryBytes(c.resources?.limits?.memory ?? '0')));
  return Math.max(sum, init);
}

function selectsSelf(sel: LabelSelector | undefined, w: Workload): boolean {
  return !!sel?.matchLabels && !sel.matchExpressions && selectorMatches(sel.matchLabels, w.labels);
}

/**
 * How many pods of a workload the scheduler may put on one node of `nodes`: 1 with a required
 * anti-affinity to itself on the hostname; with a hard topology spread on the hostname, the most a
 * node can hold while no node has more than maxSkew fewer; otherwise all of them.
 */
function maxPodsPerNode(w: Workload, replicas: number, nodes: number): number {
  const anti = w.pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  if (anti.some((t) => t.topologyKey === 'kubernetes.io/hostname' && selectsSelf(t.labelSelector, w))) return 1;
  let most = replicas;
  for (const t of w.pod.topologySpreadConstraints ?? []) {
    if (t.topologyKey !== 'kubernetes.io/hostname' || t.whenUnsatisfiable !== 'DoNotSchedule' || !selectsSelf(t.labelSelector, w)) continue;
    most = Math.min(most, Math.floor((replicas + (nodes - 1) * t.maxSkew) / nodes));
  }
  return Math.max(1, most);
}

function maxReplicas(objs: KubeObj[], w: Workload): number {
  const hpa = objs.find(
    (o) => o.kind === 'HorizontalPodAutoscaler' && (o.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef.name === w.name,
  );
  return hpa ? (hpa.spec as { maxReplicas: number }).maxReplicas : w.replicas;
}

function worstCaseNodeMemory(objs: KubeObj[], nodes: number): { total: number; lines: string[] } {
  let total = 0;
  const lines: string[] = [];
  for (const w of workloads(objs)) {
    const per = maxPodsPerNode(w, maxReplicas(objs, w), nodes);
    total += per * podMemoryLimit(w);
    lines.push(`${w.name}: ${per} x ${podMemoryLimit(w) / MiB} MiB`);
  }
  return { total, lines };
}

for (const [overlay, objs] of builds()) {
  describe(`policy: ${overlay}`, () => {
    const ws = workloads(objs);

    it('every container has startup, liveness and readiness probes; ours use /healthz and /readyz on the admin port', () => {
      for (const w of ws) {
        for (const c of w.pod.containers) {
          for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
            const probe: Probe | undefined = c[kind];
            assert.ok(probe, `${w.name}/${c.name} has no ${kind}`);
            const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
            if (port !== undefined) assert.ok(portNumber(c, port), `${w.name}/${c.name} ${kind} port ${port} is not a container port`);
          }
          const svc = serviceOfImage(c.image);
          if (svc) {
            assert.equal(portNumber(c, c.livenessProbe!.httpGet!.port), ADMIN_PORTS[svc], `${w.name} probes its admin port`);
            assert.equal(c.startupProbe!.httpGet?.path, '/healthz');
            assert.equal(c.livenessProbe!.httpGet?.path, '/healthz');
            assert.equal(c.readinessProbe!.httpGet?.path, '/readyz');
          }
        }
      }
    });

    it('every container (init containers too) has CPU and memory requests and limits, requests <= limits', () => {
      for (const w of ws) {
        for (const { c } of containersOf(w)) {
          const r = c.resources;
          for (const res of ['cpu', 'memory']) {
            assert.ok(r?.requests?.[res], `${w.name}/${c.name} has no ${res} request`);
            assert.ok(r?.limits?.[res], `${w.name}/${c.name} has no ${res} limit`);
          }
          assert.ok(memoryBytes(r!.requests!.memory!) <= memoryBytes(r!.limits!.memory!), `${w.name}/${c.name} memory request > limit`);
        }
      }
    });

    it('every container runs non-root, read-only, without capabilities or privilege escalation, under RuntimeDefault seccomp', () => {
      for (const w of ws) {
        const pod = w.pod.securityContext ?? {};
        for (const { c } of containersOf(w)) {
          const sc = c.securityContext ?? {};
          const where = `${w.name}/${c.name}`;
          assert.equal(sc.runAsNonRoot ?? pod.runAsNonRoot, true, `${where}: runAsNonRoot`);
          const uid = sc.runAsUser ?? pod.runAsUser;
          assert.ok(uid !== undefined && uid > 0, `${where}: a numeric non-zero runAsUser (images name users, which the kubelet cannot check)`);
          assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
          assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation false`);
          assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}: drops ALL capabilities`);
          assert.equal(sc.capabilities?.add, undefined, `${where}: adds no capability`);
          assert.equal((sc.seccompProfile ?? pod.seccompProfile)?.type, 'RuntimeDefault', `${where}: seccomp RuntimeDefault`);
        }
      }
    });

    it('fits the Pod Security "restricted" profile the namespace enforces (no host access, allowed volume types)', () => {
      const ns = objs.find((o) => o.kind === 'Namespace')!;
      assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
      const allowedVolumes = new Set(['configMap', 'emptyDir', 'secret', 'persistentVolumeClaim', 'projected', 'downwardAPI', 'ephemeral', 'csi']);
      for (const w of ws) {
        const pod = w.pod as PodSpec & { hostNetwork?: boolean; hostPID?: boolean; hostIPC?: boolean };
        assert.ok(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC, `${w.name}: no host namespaces`);
        for (const v of pod.volumes ?? []) {
          const types = Object.keys(v).filter((k) => k !== 'name');
          assert.ok(types.every((t) => allowedVolumes.has(t)), `${w.name}: volume ${v.name} (${types.join()}) is allowed`);
        }
        for (const { c } of containersOf(w)) {
          assert.ok(!c.ports?.some((p) => 'hostPort' in p), `${w.name}/${c.name}: no hostPort`);
          assert.ok(!(c.securityContext as { privileged?: boolean } | undefined)?.privileged, `${w.name}/${c.name}: not privileged`);
        }
      }
    });

    it('every image is pinned to a version tag or digest (no :latest, no bare name)', () => {
      for (const w of ws) {
        for (const { c } of containersOf(w)) {
          const image = c.image ?? '';
          const pinned = /@sha256:[0-9a-f]{64}$/.test(image) || /:\d+\.\d+\.\d+[\w.-]*$/.test(image.slice(image.lastIndexOf('/') + 1));
          assert.ok(pinned, `${w.name}/${c.name}: image "${image}" is not pinned to x.y.z or a digest`);
        }
      }
    });

    it('every Service selects pods of a workload and targets ports those containers declare', () => {
      for (const svc of objs.filter((o) => o.kind === 'Service')) {
        const spec = svc.spec as { selector?: Record<string, string>; ports: { port: number; targetPort?: number | string }[] };
        assert.ok(spec.selector, `Service ${svc.metadata.name} has a selector`);
        const templateSelector = Object.fromEntries(Object.entries(spec.selector).filter(([k]) => !(k in RUNTIME_LABELS)));
        for (const [k, v] of Object.entries(spec.selector)) {
          if (k in RUNTIME_LABELS) assert.ok(RUNTIME_LABELS[k]!.includes(v), `Service ${svc.metadata.name}: ${k}=${v} is a value the db-manager sets`);
        }
        const targets = ws.filter((w) => selectorMatches(templateSelector, w.labels));
        assert.equal(targets.length, 1, `Service ${svc.metadata.name} selects exactly one workload's pods`);
        for (const p of spec.ports) {
          const port = p.targetPort ?? p.port;
          assert.ok(
            targets[0]!.pod.containers.some((c) => portNumber(c, port) !== undefined),
            `Service ${svc.metadata.name} targets port ${port} which no container of ${targets[0]!.name} declares`,
          );
        }
      }
    });

    it('the HPA and PodDisruptionBudgets point at existing workloads', () => {
      for (const o of objs.filter((x) => x.kind === 'HorizontalPodAutoscaler')) {
        const ref = (o.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
        assert.ok(find(objs, ref.kind, ref.name), `HPA ${o.metadata.name} scales ${ref.kind}/${ref.name}`);
        const w = ws.find((x) => x.name === ref.name)!;
        for (const c of w.pod.containers) assert.ok(c.resources?.requests?.cpu, 'CPU utilisation needs CPU requests');
      }
      for (const o of objs.filter((x) => x.kind === 'PodDisruptionBudget')) {
        const sel = (o.spec as { selector: LabelSelector }).selector;
        assert.ok(ws.some((w) => selectorMatches(sel.matchLabels ?? {}, w.labels)), `PDB ${o.metadata.name} selects a workload`);
      }
    });

    it('every Secret key and ConfigMap a container reads exists (secret.example.yaml lists every key)', () => {
      for (const w of ws) {
        for (const { c } of containersOf(w)) assert.deepEqual(resolveEnv(c, objs).problems, [], `${w.name}/${c.name}`);
      }
    });

    it('only the balancer reaches the app; only the app, the db-manager (and MySQL replicas) reach MySQL; only the app and the db-manager reach Redis', () => {
      const reach = reachability(objs);
      assert.deepEqual(reach('app'), ['balancer:admin', 'balancer:http']);
      assert.deepEqual(reach('mysql'), ['app:mysql', 'db-manager:mysql', 'mysql:mysql']);
      assert.deepEqual(reach('redis'), ['app:redis', 'db-manager:redis']);
      // Anyone reaches the public listener(s); only the app (cache purges) the admin listener.
      const balancer = ws.find((w) => w.name === 'balancer')!.pod.containers[0]!;
      const tls = balancer.ports?.some((p) => p.name === 'https');
      assert.deepEqual(reach('balancer'), tls ? ['*:http', '*:https', 'app:admin'] : ['*:http', 'app:admin']);
      assert.deepEqual(reach('db-manager'), []);
    });

    it('the db-manager may patch only the MySQL StatefulSet pods by name, and get/update only its own Lease', () => {
      const mysql = ws.find((w) => w.kind === 'StatefulSet' && w.name === 'mysql')!;
      const podNames = Array.from({ length: mysql.replicas }, (_, i) => `mysql-${i}`);
      const rules = rulesOf(objs, 'db-manager');
      const patch = rules.filter((r) => r.resources.includes('pods') && r.verbs.includes('patch'));
      assert.equal(patch.length, 1, 'one rule grants pod patch');
      assert.deepEqual(patch[0]!.resourceNames, podNames, `patch is limited to ${podNames.join(', ')}`);
      assert.deepEqual(patch[0]!.verbs, ['patch']);
      const list = rules.filter((r) => r.resources.includes('pods') && !r.resourceNames);
      assert.deepEqual(list.map((r) => r.verbs), [['list']], 'only list (which RBAC cannot name) is namespace-wide');
      const lease = rules.filter((r) => r.resources.includes('leases') && r.resourceNames);
      assert.deepEqual(lease.map((r) => [r.verbs, r.resourceNames]), [[['get', 'update'], [LEASE_NAME]]]);
    });

    it('every Role verb that RBAC can limit to named objects is limited', () => {
      for (const role of objs.filter((o) => o.kind === 'Role')) {
        for (const r of rulesOf(objs, role.metadata.name)) {
          const nameable = r.verbs.filter((v) => !UNNAMEABLE_VERBS.has(v));
          if (nameable.length > 0) assert.ok(r.resourceNames?.length, `Role ${role.metadata.name}: ${nameable.join(', ')} on ${r.resources.join(', ')} without resourceNames`);
        }
      }
    });

    it('no container gets a Secret value on its command line ($(VAR) in args is visible in ps and the pod spec)', () => {
      for (const w of ws) {
        for (const { c } of containersOf(w)) {
          const { sources } = resolveEnv(c, objs);
          const argv = c as Container & { command?: string[]; args?: string[] };
          for (const a of [...(argv.command ?? []), ...(argv.args ?? [])]) {
            for (const m of a.matchAll(/\$\((\w+)\)/g)) assert.notEqual(sources[m[1]!], 'secret', `${w.name}/${c.name}: ${m[1]} (a Secret) in argv`);
          }
        }
      }
    });

    it('the app pods hold the balancer purge token only, and the Redis user that cannot write the topology', () => {
      const container = (name: string) => ws.find((w) => w.name === name)!.pod.containers[0]!;
      const app = secretKeys(container('app'));
      assert.ok(app.includes('balancer-purge-token'));
      for (const k of ['balancer-drain-token', 'redis-password', 'redis-manager-password', 'db-manager-redis-url', 'redis-users.acl']) assert.ok(!app.includes(k), `the app reads ${k}`);
      assert.ok(app.includes('app-redis-url'));
      const balancer = secretKeys(container('balancer'));
      assert.ok(balancer.includes('balancer-purge-token') && balancer.includes('balancer-drain-token'));
      const dbm = secretKeys(container('db-manager'));
      assert.ok(dbm.includes('db-manager-redis-url') && !dbm.includes('app-redis-url'));
      const secret = exampleSecret().data;
      assert.notEqual(secret['balancer-purge-token'], secret['balancer-drain-token']);
    });

    it('service accounts: only the balancer and the db-manager get API tokens', () => {
      for (const w of ws) {
        const needsApi = w.name === 'balancer' || w.name === 'db-manager';
        if (needsApi) assert.equal(w.pod.serviceAccountName, w.name);
        else assert.equal(w.pod.automountServiceAccountToken, false, `${w.name} does not mount a token`);
      }
    });
  });
}

/**
 * Who may open a connection to `target`'s pods, as sorted "source:port" entries ('*' = anyone / any
 * port), from the NetworkPolicies that select those pods.
 */
function reachability(objs: KubeObj[]): (target: string) => string[] {
  const ws = workloads(objs);
  const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
  type Rule = { from?: { podSelector?: LabelSelector; namespaceSelector?: unknown; ipBlock?: unknown }[]; ports?: { port?: number | string }[] };
  return (target) => {
    const w = ws.find((x) => x.name === target)!;
    const applying = policies.filter((p) => selectorMatches((p.spec as { podSelector: LabelSelector }).podSelector.matchLabels ?? {}, w.labels));
    assert.ok(applying.length > 0, `a NetworkPolicy isolates ${target}`);
    const out = new Set<string>();
    for (const p of applying) {
      for (const rule of (p.spec as { ingress?: Rule[] }).ingress ?? []) {
        const sources: string[] = [];
        if (!rule.from) sources.push('*');
        for (const peer of rule.from ?? []) {
          if (peer.namespaceSelector || peer.ipBlock || !peer.podSelector) sources.push('*');
          else for (const src of ws) if (selectorMatches(peer.podSelector.matchLabels ?? {}, src.labels)) sources.push(src.name);
        }
        const ports = rule.ports?.map((x) => String(x.port ?? '*')) ?? ['*'];
        for (const s of sources) for (const port of ports) out.add(`${s}:${port}`);
      }
    }
    return [...out].sort();
  };
}

describe('the Pi memory budget', () => {
  const pi = builds().get('pi')!;

  it(`the memory limits of what can land on one Pi stay within ${PI_POD_BUDGET / MiB} MiB`, () => {
    const { total, lines } = worstCaseNodeMemory(pi, PI_NODES);
    assert.ok(total <= PI_POD_BUDGET, `worst case per node ${total / MiB} MiB > ${PI_POD_BUDGET / MiB} MiB:\n${lines.join('\n')}`);
  });

  it('counts a workload without spreading rules as all its replicas on one node (so the budget check can fail)', () => {
    const mysql = workloads(pi).find((w) => w.name === 'mysql')!;
    assert.equal(maxPodsPerNode(mysql, 3, PI_NODES), 1);
    const unspread: Workload = { ...mysql, pod: { ...mysql.pod, affinity: {} } };
    assert.equal(maxPodsPerNode(unspread, 3, PI_NODES), 3);
    const app = workloads(pi).find((w) => w.name === 'app')!;
    assert.equal(maxPodsPerNode(app, 4, PI_NODES), 1, 'max skew 1 over 4 nodes keeps 4 app pods on 4 Pis');
    assert.equal(maxPodsPerNode(app, 5, PI_NODES), 2);
  });

  it('runs on arm64 Pis with volumes from k3s local-path', () => {
    for (const w of workloads(pi)) assert.equal(w.pod.nodeSelector?.['kubernetes.io/arch'], 'arm64', `${w.name} nodeSelector`);
    const sts = find(pi, 'StatefulSet', 'mysql')!;
    const claims = (sts.spec as { volumeClaimTemplates: { spec: { storageClassName?: string } }[] }).volumeClaimTemplates;
    assert.ok(claims.length > 0 && claims.every((c) => c.spec.storageClassName === 'local-path'));
  });
});
