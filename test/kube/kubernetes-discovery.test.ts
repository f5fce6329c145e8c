// The balancer's Kubernetes discovery: the EndpointSlices of a Service become backend targets,
// kept current through a watch that survives API server hiccups.
import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createKubernetesDiscovery, KUBE_RBAC, loadKubeConfig, targetsFromSlices } from '../../services/balancer/src/discovery/kubernetes.js';
import type { BackendTarget, Discovery } from '../../services/balancer/src/discovery/types.js';
import { startKubeApi, type KubeApiServer, type KubeObject } from '../support/index.js';
import { quietLogger, verbsOutside, waitFor } from './helpers.js';

interface Ep {
  ip: string;
  pod?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  node?: string;
}

function slice(name: string, service: string, eps: Ep[], ports: Array<{ name?: string; port: number }> = [{ name: 'http', port: 3000 }]): KubeObject {
  return {
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: 'default' } } : {}),
      ...(e.node ? { nodeName: e.node } : {}),
    })),
    ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
  };
}

const summary = (ts: BackendTarget[] | undefined): string[] => (ts ?? []).map((t) => `${t.name} ${t.url}${t.draining ? ' draining' : ''}`);

describe('Kubernetes EndpointSlice discovery', () => {
  let kube: KubeApiServer;
  let discovery: Discovery | undefined;
  let seen: BackendTarget[][];
  const latest = (): string[] => summary(seen.at(-1));

  before(async () => {
    kube = await startKubeApi();
  });
  after(() => kube.close());
  beforeEach(() => {
    seen = [];
    for (const s of kube.list('EndpointSlice')) kube.delete('EndpointSlice', 'default', s.metadata.name);
    kube.clearRequests();
  });
  afterEach(async () => {
    await discovery?.stop();
    discovery = undefined;
  });

  const start = async (port?: number | string, kubeConfig = kube.kubeConfig): Promise<void> => {
    discovery = createKubernetesDiscovery({ kubeConfig, namespace: 'default', service: 'app', port, logger: quietLogger, retryDelayMs: 100, maxRetryDelayMs: 400 });
    await discovery.start((ts) => seen.push(ts));
  };

  it('reports ready endpoints of the Service, named after their pods, and terminating ones as draining', async () => {
    kube.put(slice('app-1', 'app', [
      { ip: '10.0.0.1', pod: 'app-a' },
      { ip: '10.0.0.2', pod: 'app-b', ready: false, serving: false }, // starting, not ready yet
      { ip: '10.0.0.3', pod: 'app-c', ready: false, serving: true, terminating: true },
      { ip: '10.0.0.4', pod: 'app-d', ready: false, serving: false, terminating: true }, // finished draining
      { ip: '10.0.0.5', node: 'pi-3' },
    ]));
    kube.put(slice('other-1', 'other', [{ ip: '10.0.9.9', pod: 'other-a' }]));
    await start();
    assert.deepEqual(latest(), ['app-a http://10.0.0.1:3000', 'app-c http://10.0.0.3:3000 draining', 'pi-3 http://10.0.0.5:3000']);
    assert.equal(seen.length, 1, 'the initial list is reported once, not object by object');
    assert.deepEqual(seen[0]?.[0], { id: '10.0.0.1:3000', url: 'http://10.0.0.1:3000', name: 'app-a', draining: false });
  });

  it('reports an empty Service as an empty list', async () => {
    await start();
    assert.deepEqual(seen, [[]]);
  });

  it('follows endpoints being added, starting to terminate and removed', async () => {
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.1', pod: 'app-a' }]));
    await start();
    await waitFor(() => kube.openWatches('EndpointSlice') === 1, 'watching');
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.1', pod: 'app-a' }, { ip: '10.0.0.2', pod: 'app-b' }]));
    await waitFor(() => latest().length === 2, 'second backend');
    kube.put(slice('app-2', 'app', [{ ip: '10.0.1.1', pod: 'app-z' }]));
    await waitFor(() => latest().length === 3, 'backend from a second slice');
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.1', pod: 'app-a', ready: false, serving: true, terminating: true }, { ip: '10.0.0.2', pod: 'app-b' }]));
    await waitFor(() => latest().includes('app-a http://10.0.0.1:3000 draining'), 'app-a draining');
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.2', pod: 'app-b' }]));
    kube.delete('EndpointSlice', 'default', 'app-2');
    await waitFor(() => latest().join() === 'app-b http://10.0.0.2:3000', 'only app-b left');
    // Unrelated changes (another Service) do not produce a report.
    const count = seen.length;
    kube.put(slice('other-1', 'other', [{ ip: '10.0.9.9', pod: 'other-a' }]));
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.2', pod: 'app-b' }, { ip: '10.0.0.3', pod: 'app-c' }]));
    await waitFor(() => latest().length === 2, 'app-c');
    assert.equal(seen.length, count + 1);
  });

  it('uses the named port', async () => {
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.1', pod: 'app-a' }], [{ name: 'metrics', port: 9100 }, { name: 'http', port: 3000 }]));
    await start('http', loadKubeConfig(kube.writeKubeConfig())); // as main.ts would, from a kubeconfig file
    assert.deepEqual(latest(), ['app-a http://10.0.0.1:3000']);
  });

  it('re-establishes the watch after it breaks and catches up on what changed meanwhile', async () => {
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.1', pod: 'app-a' }]));
    await start();
    await waitFor(() => kube.openWatches('EndpointSlice') === 1, 'watching');
    // The connection drops, and the first attempt to watch again fails too.
    kube.addFault({ match: (r) => r.resource === 'endpointslices' && r.verb === 'watch', status: 503 });
    kube.closeWatches({ abrupt: true });
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.1', pod: 'app-a' }, { ip: '10.0.0.2', pod: 'app-b' }]));
    await waitFor(() => latest().length === 2, 'change made while disconnected');
    await waitFor(() => kube.openWatches('EndpointSlice') === 1, 'watching again');
    const watches = kube.requests.filter((r) => r.verb === 'watch');
    assert.ok(watches.some((r) => r.status === 503), 'the failed attempt happened');
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.2', pod: 'app-b' }]));
    await waitFor(() => latest().join() === 'app-b http://10.0.0.2:3000', 'change after reconnect');
  });

  it('relists when the watch history has been compacted (410 Gone)', async () => {
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.1', pod: 'app-a' }]));
    await start();
    await waitFor(() => kube.openWatches('EndpointSlice') === 1, 'watching');
    kube.put(slice('other-1', 'other', [{ ip: '10.0.9.9' }])); // the discovery's watch does not see this version
    kube.compact();
    kube.closeWatches();
    kube.delete('EndpointSlice', 'default', 'app-1');
    kube.put(slice('app-2', 'app', [{ ip: '10.0.0.7', pod: 'app-n' }]));
    await waitFor(() => latest().join() === 'app-n http://10.0.0.7:3000', 'state after relist');
    assert.ok(kube.requests.filter((r) => r.verb === 'list').length >= 2, 'listed again');
  });

  it('keeps trying when the API server is unavailable at start', async () => {
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.1', pod: 'app-a' }]));
    kube.addFault({ match: (r) => r.resource === 'endpointslices' && r.verb === 'list', status: 500, times: 2 });
    await start();
    assert.deepEqual(seen, [], 'nothing reported before a successful list');
    await waitFor(() => seen.length === 1, 'first report after retries');
    assert.deepEqual(latest(), ['app-a http://10.0.0.1:3000']);
  });

  it('uses only the verbs its KUBE_RBAC lists', async () => {
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.1', pod: 'app-a' }]));
    await start();
    await waitFor(() => kube.openWatches('EndpointSlice') === 1, 'watching');
    kube.closeWatches({ abrupt: true });
    await waitFor(() => kube.requests.filter((r) => r.verb === 'watch').length === 2 && kube.openWatches('EndpointSlice') === 1, 'watching again');
    assert.deepEqual(new Set(kube.requests.map((r) => r.verb)), new Set(['list', 'watch']));
    assert.deepEqual(verbsOutside(kube.requests, KUBE_RBAC), []);
  });

  it('stops watching on stop(), and can be started again', async () => {
    await start();
    await waitFor(() => kube.openWatches('EndpointSlice') === 1, 'watching');
    await discovery?.stop();
    await waitFor(() => kube.openWatches('EndpointSlice') === 0, 'watch closed');
    kube.put(slice('app-1', 'app', [{ ip: '10.0.0.1', pod: 'app-a' }]));
    assert.deepEqual(seen, [[]]);
    await discovery?.start((ts) => seen.push(ts));
    assert.deepEqual(latest(), ['app-a http://10.0.0.1:3000']);
    await waitFor(() => kube.openWatches('EndpointSlice') === 1, 'watching again');
  });
});

describe('targetsFromSlices', () => {
  it('brackets IPv6 addresses and keeps one target per address when slices overlap', () => {
    const v6 = { ...slice('a', 'app', [{ ip: 'fd00::1', pod: 'p6' }]), addressType: 'IPv6' };
    const dupDraining = slice('b', 'app', [{ ip: '10.0.0.1', pod: 'p', ready: false, serving: true, terminating: true }]);
    const dupReady = slice('c', 'app', [{ ip: '10.0.0.1', pod: 'p' }]);
    const targets = targetsFromSlices([v6, dupDraining, dupReady] as never);
    assert.deepEqual(summary(targets), ['p http://10.0.0.1:3000', 'p6 http://[fd00::1]:3000']);
  });

  it('skips slices without the requested port and treats a missing ready condition as ready', () => {
    const s = slice('a', 'app', [{ ip: '10.0.0.1', pod: 'p' }]) as unknown as { endpoints: Array<{ conditions: unknown }> };
    const noConditions = { ...s, endpoints: s.endpoints.map((e) => ({ ...e, conditions: {} })) };
    assert.deepEqual(summary(targetsFromSlices([noConditions] as never)), ['p http://10.0.0.1:3000']);
    assert.deepEqual(targetsFromSlices([noConditions] as never, 'grpc'), []);
    assert.deepEqual(summary(targetsFromSlices([noConditions] as never, 8080)), ['p http://10.0.0.1:8080']);
  });
});
