// --discovery kubernetes end to end: the balancer follows the EndpointSlices of a Service on the
// fake API server (test/support/kube-api.ts) and forwards to the pods they list; a terminating
// endpoint is drained (no new requests), a removed one dropped.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKubeApi, type KubeApiServer, type KubeObject } from '../support/index.js';
import { startBackend, startTestBalancer, request, eventually, type TestBackend, type TestBalancer } from './helpers.js';

function slice(eps: Array<{ port: number; pod: string; terminating?: boolean }>): KubeObject {
  return {
    kind: 'EndpointSlice',
    metadata: { name: 'app-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'app' } },
    addressType: 'IPv4',
    endpoints: eps.map((e) => ({
      addresses: ['127.0.0.1'],
      conditions: { ready: !e.terminating, serving: true, terminating: e.terminating ?? false },
      targetRef: { kind: 'Pod', name: e.pod, namespace: 'default' },
    })),
    // One port per slice in real clusters; here each pod listens on its own port, so one slice per test state.
    ports: [{ name: 'http', port: eps[0]?.port ?? 1, protocol: 'TCP' }],
  };
}

describe('Kubernetes discovery', () => {
  let kube: KubeApiServer;
  let pod: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    kube = await startKubeApi();
    pod = await startBackend('app-7d9f');
    kube.put(slice([{ port: pod.port, pod: 'app-7d9f' }]));
    lb = await startTestBalancer(['--discovery', 'kubernetes', '--kubeconfig', kube.writeKubeConfig(), '--service', 'app', '--namespace', 'default', '--no-cache']);
  });
  after(async () => {
    await lb.close();
    await pod.close();
    await kube.close();
  });

  it('forwards to the pods of the Service, named after the pod', async () => {
    await eventually(async () => (await request(`${lb.base}/`)).status === 200, 15_000, 'backend from the EndpointSlice');
    const res = await request(`${lb.base}/k8s`);
    assert.equal(res.headers['x-served-by'], 'app-7d9f');
  });

  it('drains a terminating endpoint and drops a removed one', async () => {
    kube.put(slice([{ port: pod.port, pod: 'app-7d9f', terminating: true }]));
    await eventually(async () => (await request(`${lb.base}/`)).status === 503, 15_000, 'draining');
    const api = (await (await fetch(`${lb.admin}/api/backends`)).json()) as { backends: Array<{ name: string; draining: boolean }> };
    assert.deepEqual(api.backends.map((b) => [b.name, b.draining]), [['app-7d9f', true]]);
    kube.delete('EndpointSlice', 'default', 'app-abc');
    await eventually(async () => ((await (await fetch(`${lb.admin}/api/backends`)).json()) as { backends: unknown[] }).backends.length === 0, 15_000, 'removal');
  });
});
