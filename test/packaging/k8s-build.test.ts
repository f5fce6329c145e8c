// `kubectl kustomize` builds every overlay, and every object it outputs is valid against the
// Kubernetes OpenAPI schema (kubernetes-models), has no field the API types lack (@kubernetes/client-node
// models), and uses an API version that is served and not deprecated.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as kube from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { builds, kustomize, root, type KubeObj } from './support.js';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

type ModelClass = new (data: unknown) => { validate(): void };

/** The kubernetes-models class for an object, e.g. apps/v1 Deployment -> kubernetes-models/apps/v1/Deployment. */
function modelFor(o: KubeObj): ModelClass {
  const mod = require(`kubernetes-models/${o.apiVersion}/${o.kind}`) as Record<string, ModelClass>;
  const cls = mod[o.kind];
  if (!cls) throw new Error(`kubernetes-models has no ${o.apiVersion} ${o.kind}`);
  return cls;
}

/**
 * Fields of an object that the Kubernetes API types do not have: the object is read into the typed
 * models of @kubernetes/client-node (generated from the same OpenAPI spec) and written back; whatever
 * does not survive the round trip is unknown.
 */
function unknownFields(o: KubeObj): string[] {
  const type = `${o.apiVersion.split('/').at(-1)!.toUpperCase()}${o.kind}`;
  assert.ok(type in kube, `@kubernetes/client-node has a model ${type}`);
  const back = ObjectSerializer.serialize(ObjectSerializer.deserialize(o, type, ''), type, '') as unknown;
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (Array.isArray(a)) {
      a.forEach((x, i) => walk(x, Array.isArray(b) ? b[i] : undefined, `${path}[${i}]`));
    } else if (a && typeof a === 'object') {
      const bo = (b && typeof b === 'object' ? b : {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(a)) {
        if (!(k in bo) || (bo[k] === undefined && v !== undefined)) out.push(`${path}.${k}`);
        else walk(v, bo[k], `${path}.${k}`);
      }
    }
  };
  walk(o, back, '');
  return out;
}

// GA versions that current Kubernetes (1.29+) serves and has not deprecated. Anything else (beta
// versions such as autoscaling/v2beta2 or policy/v1beta1, extensions/*) is refused.
const CURRENT_API_VERSIONS = new Set([
  'v1',
  'apps/v1',
  'autoscaling/v2',
  'policy/v1',
  'networking.k8s.io/v1',
  'rbac.authorization.k8s.io/v1',
  'coordination.k8s.io/v1',
  'discovery.k8s.io/v1',
  'storage.k8s.io/v1',
]);

describe('kustomize output', () => {
  it('builds every overlay, and each optional component on top of pi', () => {
    const all = builds();
    for (const [name, objs] of all) {
      assert.ok(objs.length > 10, `${name}: only ${objs.length} objects`);
      assert.ok(
        objs.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'dramble'),
        `${name}: every namespaced object lands in namespace dramble`,
      );
    }
    assert.ok(all.get('pi+ingress')!.some((o) => o.kind === 'Ingress'));
    assert.ok(!all.get('pi')!.some((o) => o.kind === 'Ingress'), 'the Ingress is optional: not in the pi overlay itself');
    const ports = (name: string) => ((all.get(name)!.find((o) => o.kind === 'Service' && o.metadata.name === 'balancer')!.spec as { ports: { port: number }[] }).ports.map((p) => p.port));
    assert.deepEqual(ports('pi'), [80]);
    assert.deepEqual(ports('pi+tls'), [80, 443], 'with the tls component the balancer answers on 80 and 443');
  });

  it('holds the parts the issue asks for', () => {
    const objs = builds().get('pi')!;
    const has = (kind: string, name: string) => assert.ok(objs.some((o) => o.kind === kind && o.metadata.name === name), `missing ${kind}/${name}`);
    has('Namespace', 'dramble');
    for (const d of ['balancer', 'app', 'db-manager', 'redis']) has('Deployment', d);
    has('StatefulSet', 'mysql');
    for (const s of ['balancer', 'app', 'mysql', 'mysql-primary', 'mysql-replicas', 'redis', 'db-manager']) has('Service', s);
    has('HorizontalPodAutoscaler', 'app');
    has('PodDisruptionBudget', 'app');
    for (const r of ['balancer', 'db-manager']) {
      has('ServiceAccount', r);
      has('Role', r);
      has('RoleBinding', r);
    }
    assert.ok(objs.filter((o) => o.kind === 'NetworkPolicy').length >= 4);
    assert.ok(!objs.some((o) => o.kind === 'Secret'), 'no Secret (with or without real values) is part of the build');
  });

  it('validates every object against the Kubernetes OpenAPI schema', () => {
    for (const [name, objs] of builds()) {
      for (const o of objs) {
        assert.doesNotThrow(() => new (modelFor(o))(o).validate(), `${name}: ${o.apiVersion} ${o.kind}/${o.metadata.name} is invalid`);
      }
    }
  });

  it('has no unknown field (the API server drops a misspelt field silently, e.g. readinessprobe)', () => {
    for (const [name, objs] of builds()) {
      for (const o of objs) assert.deepEqual(unknownFields(o), [], `${name}: ${o.kind}/${o.metadata.name}`);
    }
  });

  it('the unknown-field check finds a misspelt field (so the check above can fail)', () => {
    const deployment = structuredClone(builds().get('pi')!.find((o) => o.kind === 'Deployment')!) as KubeObj & {
      spec: { template: { spec: { containers: Record<string, unknown>[] } } };
    };
    deployment.spec.template.spec.containers[0]!.readinessprobe = {};
    assert.deepEqual(unknownFields(deployment), ['.spec.template.spec.containers[0].readinessprobe']);
  });

  it('the schema check catches a broken object (so the check above can fail)', () => {
    const deployment = builds().get('pi')!.find((o) => o.kind === 'Deployment')!;
    const broken = structuredClone(deployment) as KubeObj & { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    assert.throws(() => new (modelFor(broken))(broken).validate(), /replicas/);
  });

  it('uses only current, non-deprecated API versions', () => {
    for (const [name, objs] of builds()) {
      for (const o of objs) {
        assert.ok(CURRENT_API_VERSIONS.has(o.apiVersion), `${name}: ${o.kind}/${o.metadata.name} uses ${o.apiVersion}`);
      }
    }
  });

  it('the base alone builds too (overlays only patch it)', () => {
    assert.ok(kustomize(join(root, 'k8s/base')).length > 10);
  });
});
