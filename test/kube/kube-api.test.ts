// The fake Kubernetes API server, exercised with the real @kubernetes/client-node, so that the
// adapters tested against it talk to it exactly as they would to a real API server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  PatchStrategy,
  V1MicroTime,
  Watch,
  makeInformer,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { startKubeApi, type KubeApiServer, type KubeObject } from '../support/index.js';
import { waitFor } from './helpers.js';

function pod(name: string, labels: Record<string, string>, ip = '10.0.0.1'): KubeObject {
  return { kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running', podIP: ip } };
}

function apiCode(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

describe('fake kube-api with the real client', () => {
  let kube: KubeApiServer;
  let core: CoreV1Api;
  before(async () => {
    kube = await startKubeApi();
    core = kube.kubeConfig.makeApiClient(CoreV1Api);
  });
  after(() => kube.close());

  it('lists pods by label selector and reads one by name', async () => {
    kube.put(pod('db-0', { app: 'mysql', 'dramble.io/role': 'primary' }));
    kube.put(pod('db-1', { app: 'mysql' }));
    kube.put(pod('web-0', { app: 'web' }));
    const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=mysql' });
    assert.deepEqual(list.items.map((p) => p.metadata?.name), ['db-0', 'db-1']);
    assert.ok(Number(list.metadata?.resourceVersion) > 1);
    const notPrimary = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app in (mysql,web),dramble.io/role!=primary' });
    assert.deepEqual(notPrimary.items.map((p) => p.metadata?.name), ['db-1', 'web-0']);
    const one = await core.readNamespacedPod({ namespace: 'default', name: 'db-0' });
    assert.equal(one.status?.podIP, '10.0.0.1');
    await assert.rejects(core.readNamespacedPod({ namespace: 'default', name: 'nope' }), (err) => apiCode(err) === 404);
    const last = kube.requests.at(-1);
    assert.equal(last?.verb, 'get');
    assert.equal(last?.path, '/api/v1/namespaces/default/pods/nope');
  });

  it('refuses a client without the bearer token', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: kube.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'wrong' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    await assert.rejects(kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default' }), (err) => apiCode(err) === 401);
  });

  it('patches pod labels with merge, strategic merge and JSON patch, as the client sends them', async () => {
    kube.put(pod('p-0', { app: 'mysql', keep: 'yes' }));
    await core.patchNamespacedPod(
      { namespace: 'default', name: 'p-0', body: { metadata: { labels: { 'dramble.io/role': 'replica' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal(kube.requests.at(-1)?.contentType, 'application/merge-patch+json');
    assert.deepEqual(kube.get('Pod', 'default', 'p-0')?.metadata.labels, { app: 'mysql', keep: 'yes', 'dramble.io/role': 'replica' });

    await core.patchNamespacedPod(
      { namespace: 'default', name: 'p-0', body: { metadata: { labels: { 'dramble.io/role': 'primary', keep: null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.equal(kube.requests.at(-1)?.contentType, 'application/strategic-merge-patch+json');
    assert.deepEqual(kube.get('Pod', 'default', 'p-0')?.metadata.labels, { app: 'mysql', 'dramble.io/role': 'primary' });

    // Without a header the 1.x client sends application/json-patch+json, so the body must be an op list.
    const patched: V1Pod = await core.patchNamespacedPod({
      namespace: 'default',
      name: 'p-0',
      body: [{ op: 'replace', path: '/metadata/labels/dramble.io~1role', value: 'replica' }],
    });
    assert.equal(kube.requests.at(-1)?.contentType, 'application/json-patch+json');
    assert.equal(patched.metadata?.labels?.['dramble.io/role'], 'replica');
    await assert.rejects(
      core.patchNamespacedPod({ namespace: 'default', name: 'p-0', body: [{ op: 'test', path: '/metadata/labels/app', value: 'web' }] }),
      (err) => apiCode(err) === 422,
    );
    await assert.rejects(
      core.patchNamespacedPod(
        { namespace: 'default', name: 'p-0', body: { metadata: { labels: { 'dramble.io/role': 'primary' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
      (err) => apiCode(err) === 415,
    );
  });

  it('lists EndpointSlices of one Service', async () => {
    for (const [name, svc] of [['web-abc', 'web'], ['web-def', 'web'], ['db-xyz', 'db']] as const) {
      kube.put({ kind: 'EndpointSlice', metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4', endpoints: [], ports: [] });
    }
    const api = kube.kubeConfig.makeApiClient(DiscoveryV1Api);
    const list = await api.listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'kubernetes.io/service-name=web' });
    assert.deepEqual(list.items.map((s) => s.metadata?.name), ['web-abc', 'web-def']);
    assert.equal(kube.requests.at(-1)?.path, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices');
  });

  it('creates, reads and replaces Leases with resourceVersion conflicts', async () => {
    const api = kube.kubeConfig.makeApiClient(CoordinationV1Api);
    const now = new V1MicroTime();
    const created = await api.createNamespacedLease({
      namespace: 'default',
      body: { metadata: { name: 'l1' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 10, acquireTime: now, renewTime: now, leaseTransitions: 0 } },
    });
    assert.equal(created.spec?.holderIdentity, 'a');
    await assert.rejects(api.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'l1' }, spec: {} } }), (err) => apiCode(err) === 409);

    const read = await api.readNamespacedLease({ namespace: 'default', name: 'l1' });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
    const replaced = await api.replaceNamespacedLease({ namespace: 'default', name: 'l1', body: { ...read, spec: { ...read.spec, holderIdentity: 'b' } } });
    assert.equal(replaced.spec?.holderIdentity, 'b');
    assert.ok(Number(replaced.metadata?.resourceVersion) > Number(read.metadata?.resourceVersion));
    // A writer holding the old version loses.
    await assert.rejects(
      api.replaceNamespacedLease({ namespace: 'default', name: 'l1', body: { ...read, spec: { ...read.spec, holderIdentity: 'c' } } }),
      (err) => apiCode(err) === 409,
    );
    assert.equal(kube.get('Lease', 'default', 'l1')?.['spec'] && (kube.get('Lease', 'default', 'l1')?.['spec'] as { holderIdentity: string }).holderIdentity, 'b');
    // The API server's MicroTime parser wants six fractional digits; a plain Date has three.
    await assert.rejects(
      api.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'l2' }, spec: { renewTime: new Date() as V1MicroTime } } }),
      (err) => apiCode(err) === 400,
    );
    assert.deepEqual(
      kube.requests.filter((r) => r.resource === 'leases').map((r) => `${r.verb} ${r.status}`),
      ['create 201', 'create 409', 'get 200', 'update 200', 'update 409', 'create 400'],
    );
  });

  it('streams watch events from a resourceVersion, honouring the label selector', async () => {
    kube.put(pod('w-0', { app: 'watched' }));
    const from = String(kube.resourceVersion);
    const events: string[] = [];
    const done: unknown[] = [];
    const ctl = await new Watch(kube.kubeConfig).watch(
      '/api/v1/namespaces/default/pods',
      { resourceVersion: from, labelSelector: 'app=watched' },
      (type, obj: V1Pod) => events.push(`${type} ${obj.metadata?.name}`),
      (err) => done.push(err),
    );
    await waitFor(() => kube.openWatches('Pod') === 1, 'watch open');
    kube.put(pod('w-1', { app: 'watched' }));
    kube.put(pod('w-other', { app: 'other' }));
    kube.patch('Pod', 'default', 'w-0', { metadata: { labels: { app: 'moved' } } }); // leaves the selection
    kube.patch('Pod', 'default', 'w-other', { metadata: { labels: { app: 'watched' } } }); // enters it
    kube.delete('Pod', 'default', 'w-1');
    await waitFor(() => events.length >= 4, 'four events');
    assert.deepEqual(events, ['ADDED w-1', 'DELETED w-0', 'ADDED w-other', 'DELETED w-1']);
    const watchReq = kube.requests.findLast((r) => r.verb === 'watch');
    assert.deepEqual([watchReq?.path, watchReq?.query['resourceVersion'], watchReq?.query['labelSelector']], ['/api/v1/namespaces/default/pods', from, 'app=watched']);
    ctl.abort();
    await waitFor(() => kube.openWatches('Pod') === 0, 'watch closed');
  });

  it('lets an informer re-watch after a clean close and relist after 410 Gone', async () => {
    const names = (): string[] => informer.list('default').map((p) => p.metadata?.name ?? '').sort();
    kube.put(pod('i-0', { app: 'inf' }));
    const informer = makeInformer<V1Pod>(
      kube.kubeConfig,
      '/api/v1/namespaces/default/pods',
      () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=inf' }),
      'app=inf',
    );
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    await waitFor(() => kube.openWatches('Pod') === 1, 'informer watching');
    assert.deepEqual(names(), ['i-0']);

    kube.closeWatches();
    kube.put(pod('i-1', { app: 'inf' })); // happens while no watch is open
    await waitFor(() => names().includes('i-1'), 'informer caught up after re-watch');
    const lists = (): number => kube.requests.filter((r) => r.resource === 'pods' && r.verb === 'list').length;
    const listsBefore = lists();

    kube.put(pod('i-2', { app: 'inf' }));
    kube.delete('Pod', 'default', 'i-0');
    await waitFor(() => names().join() === 'i-1,i-2', 'informer followed the watch');
    assert.equal(lists(), listsBefore, 'no relist while the watch can resume');

    // History compacted past the informer's version (its watch did not see the last change): 410 Gone, relist.
    kube.put(pod('i-3', { app: 'other' }));
    kube.compact();
    kube.closeWatches();
    await waitFor(() => lists() > listsBefore, 'informer relisted after 410');
    await waitFor(() => kube.openWatches('Pod') === 1, 'informer watching again');
    kube.put(pod('i-4', { app: 'inf' }));
    await waitFor(() => names().join() === 'i-1,i-2,i-4', 'informer state after relist');
    assert.deepEqual(errors, []);
    await informer.stop();
  });

  it('answers injected faults', async () => {
    kube.addFault({ match: (r) => r.resource === 'pods' && r.verb === 'list', status: 503 });
    await assert.rejects(core.listNamespacedPod({ namespace: 'default' }), (err) => apiCode(err) === 503);
    await core.listNamespacedPod({ namespace: 'default' });
  });
});
