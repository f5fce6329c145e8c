// Shared helpers for the packaging tests: build the kustomize overlays with the real kubectl, parse
// the output, and resolve what a container's environment would be at run time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import type { Settings } from '@dramble/lib';
import { settings as balancerSettings } from '../../services/balancer/src/config.js';
import { settings as appSettings } from '../../services/app/src/config.js';
import { settings as dbManagerSettings } from '../../services/db-manager/src/config.js';

export const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const KUBECTL = process.env.KUBECTL ?? 'kubectl';

/** Our three services, keyed by the name used in image names, Dockerfile paths and compose builds. */
export const SERVICES = {
  balancer: balancerSettings as Settings,
  app: appSettings as Settings,
  'db-manager': dbManagerSettings as Settings,
} as const;
export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

export interface KubeObj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    resourceFieldRef?: { resource: string };
  };
}

export interface Probe {
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  grpc?: { port: number };
}

export interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string }; prefix?: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
  };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Container['securityContext'];
  affinity?: {
    podAntiAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string; labelSelector?: LabelSelector }[];
    };
  };
  topologySpreadConstraints?: { maxSkew: number; topologyKey: string; whenUnsatisfiable: string; labelSelector?: LabelSelector }[];
  nodeSelector?: Record<string, string>;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  volumes?: { name: string; secret?: { secretName: string }; configMap?: { name: string }; emptyDir?: unknown }[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}

/** A Deployment or StatefulSet, flattened to what the checks need. */
export interface Workload {
  kind: string;
  name: string;
  replicas: number;
  labels: Record<string, string>;
  pod: PodSpec;
  object: KubeObj;
}

/** Runs `kubectl kustomize <dir>` and returns every object of the output. */
export function kustomize(dir: string): KubeObj[] {
  let out: string;
  try {
    out = execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (err) {
    // The manifests use kustomize v4+ features (labels, components, replicas): kubectl 1.24 or newer.
    // Debian 12's kubernetes-client (1.20) embeds kustomize v2 and cannot build them.
    let version = 'unknown';
    try {
      version = execFileSync(KUBECTL, ['version', '--client'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().replace(/\n/g, '; ');
    } catch {
      /* reported below */
    }
    const e = err as Error & { stderr?: string };
    throw new Error(`kubectl kustomize ${dir} failed (kubectl: ${version}; needs kubectl >= 1.24):\n${e.stderr ?? e.message}`);
  }
  return parseYamlStream(out);
}

/** Builds a throwaway overlay (e.g. an overlay plus an optional component) and returns its objects. */
export function kustomizeWith(kustomization: string): KubeObj[] {
  const dir = mkdtempSync(join(tmpdir(), 'dramble-kustomize-'));
  try {
    writeFileSync(join(dir, 'kustomization.yaml'), kustomization.replaceAll('{{root}}', relative(dir, root)));
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseYamlStream(text: string): KubeObj[] {
  const docs = parseAllDocuments(text);
  const out: KubeObj[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors[0]!.message}`);
    const value = doc.toJSON() as KubeObj | null;
    if (value) out.push(value);
  }
  return out;
}

export function readYaml<T = unknown>(path: string): T {
  return parseYamlText<T>(readFileSync(join(root, path), 'utf8'));
}

/** One YAML document, with YAML 1.1 merge keys (`<<: *anchor`) as docker-compose reads them. */
export function parseYamlText<T = unknown>(text: string): T {
  return parseYaml(text, { merge: true }) as T;
}

export const OVERLAYS = ['pi', 'dev'] as const;
export type Overlay = (typeof OVERLAYS)[number];

const built = new Map<string, KubeObj[]>();
/** The built output of every overlay, plus the pi overlay with each optional component. */
export function builds(): Map<string, KubeObj[]> {
  if (built.size === 0) {
    for (const o of OVERLAYS) built.set(o, kustomize(join(root, 'k8s/overlays', o)));
    // The optional components, each on top of the pi overlay.
    for (const component of ['ingress', 'tls']) {
      built.set(
        `pi+${component}`,
        kustomizeWith(
          ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources: ["{{root}}/k8s/overlays/pi"]', `components: ["{{root}}/k8s/components/${component}"]`, ''].join('\n'),
        ),
      );
    }
  }
  return built;
}

export function workloads(objs: KubeObj[]): Workload[] {
  const out: Workload[] = [];
  for (const o of objs) {
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet' && o.kind !== 'DaemonSet') continue;
    const spec = o.spec as { replicas?: number; template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } };
    out.push({
      kind: o.kind,
      name: o.metadata.name,
      replicas: spec.replicas ?? 1,
      labels: spec.template.metadata?.labels ?? {},
      pod: spec.template.spec,
      object: o,
    });
  }
  return out;
}

export function find(objs: KubeObj[], kind: string, name: string): KubeObj | undefined {
  return objs.find((o) => o.kind === kind && o.metadata.name === name);
}

/** Which of our services an image is (ghcr.io/dramble/<svc>:tag), or undefined for mariadb, redis, ... */
export function serviceOfImage(image: string | undefined): ServiceName | undefined {
  const m = /(?:^|\/)dramble\/([a-z-]+)(?::|@|$)/.exec(image ?? '');
  const name = m?.[1];
  return name && name in SERVICES ? (name as ServiceName) : undefined;
}

export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The example Secret's values: the stand-ins for secretKeyRefs when a container's env is resolved. */
export function exampleSecret(): { name: string; data: Record<string, string> } {
  const s = readYaml<{ metadata: { name: string }; stringData: Record<string, string> }>('k8s/base/secret.example.yaml');
  return { name: s.metadata.name, data: s.stringData };
}

/** Stand-ins for downward-API fields, as the kubelet would fill them in. */
const FIELD_VALUES: Record<string, string> = {
  'metadata.name': 'pod-0',
  'metadata.namespace': 'dramble',
  'spec.nodeName': 'pi-1',
  'status.podIP': '10.42.0.10',
};

export interface ResolvedEnv {
  /** Variable name -> value as the container would see it. */
  values: Record<string, string>;
  /** Variable name -> where it came from. */
  sources: Record<string, 'value' | 'field' | 'secret' | 'configmap'>;
  problems: string[];
}

/** Resolves a container's environment (envFrom ConfigMaps, literal values, secretKeyRefs, fieldRefs). */
export function resolveEnv(container: Container, objs: KubeObj[]): ResolvedEnv {
  const secret = exampleSecret();
  const values: Record<string, string> = {};
  const sources: ResolvedEnv['sources'] = {};
  const problems: string[] = [];
  const configMap = (name: string): Record<string, string> | undefined => (find(objs, 'ConfigMap', name)?.data as Record<string, string> | undefined) ?? undefined;
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const data = configMap(from.configMapRef.name);
      if (!data) problems.push(`envFrom ConfigMap ${from.configMapRef.name} is not in the build`);
      for (const [k, v] of Object.entries(data ?? {})) {
        values[(from.prefix ?? '') + k] = v;
        sources[(from.prefix ?? '') + k] = 'configmap';
      }
    } else if (from.secretRef) {
      problems.push(`envFrom Secret ${from.secretRef.name}: name the keys one by one so they can be checked`);
    }
  }
  for (const e of container.env ?? []) {
    const vf = e.valueFrom;
    if (e.value !== undefined) {
      values[e.name] = e.value;
      sources[e.name] = 'value';
    } else if (vf?.fieldRef) {
      const v = FIELD_VALUES[vf.fieldRef.fieldPath];
      if (v === undefined) problems.push(`${e.name}: unexpected fieldRef ${vf.fieldRef.fieldPath}`);
      values[e.name] = v ?? 'x';
      sources[e.name] = 'field';
    } else if (vf?.secretKeyRef) {
      const { name, key } = vf.secretKeyRef;
      const v = name === secret.name ? secret.data[key] : undefined;
      if (v === undefined) problems.push(`${e.name}: Secret ${name} key ${key} is not in k8s/base/secret.example.yaml`);
      values[e.name] = v ?? 'x';
      sources[e.name] = 'secret';
    } else if (vf?.configMapKeyRef) {
      const v = configMap(vf.configMapKeyRef.name)?.[vf.configMapKeyRef.key];
      if (v === undefined) problems.push(`${e.name}: ConfigMap ${vf.configMapKeyRef.name} key ${vf.configMapKeyRef.key} is not in the build`);
      values[e.name] = v ?? 'x';
      sources[e.name] = 'configmap';
    } else {
      problems.push(`${e.name}: no value`);
    }
  }
  return { values, sources, problems };
}

/** docker-compose.yml as `docker-compose config` resolves it (anchors merged, ${VAR:-default} filled in). */
export interface ComposeFile {
  services: Record<
    string,
    {
      image?: string;
      build?: { context?: string; dockerfile?: string };
      environment?: Record<string, string | number | boolean | null> | string[];
      healthcheck?: { test?: string[] | string; disable?: boolean };
      depends_on?: Record<string, { condition?: string }> | string[];
      ports?: unknown[];
      user?: string;
      read_only?: boolean;
      cap_drop?: string[];
    }
  >;
}

/** docker-compose.yml as `docker-compose config` resolves it (anchors merged, ${VAR:-default} filled in),
 * or parsed directly when the binary is missing. */
export function composeFile(): ComposeFile {
  const bin = composeBinary();
  if (!bin) {
    // Without the binary: compose's ${VAR:-default} / ${VAR} interpolation, then the YAML with merge keys.
    const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8').replace(
      /\$\{(\w+)(?::-([^}]*))?\}/g,
      (_, name: string, def?: string) => process.env[name] || def || '',
    );
    return parseYamlText<ComposeFile>(text);
  }
  const out = execFileSync(bin, ['config'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return parseYamlText<ComposeFile>(out);
}

/** Path of Debian's docker-compose (v1) or undefined when it is not installed. */
export function composeBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, 'docker-compose');
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

export function composeEnv(env: ComposeFile['services'][string]['environment']): Record<string, string> {
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((kv) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Parses a Kubernetes memory quantity (e.g. 512Mi, 1G) to bytes. */
export function memoryBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(q.trim());
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const unit = m[2] ?? '';
  const mult: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * mult[unit]!;
}
