// The db-manager's pod adapters: role labels that steer the mysql-primary/mysql-replicas Services,
// and the inventory of MySQL pods it watches.
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Watch } from '@kubernetes/client-node';
import { createPodRoleLabeler, KUBE_RBAC as LABELER_RBAC, PodLabelError, ROLE_LABEL } from '../../services/db-manager/src/kube/pod-labeler.js';
import { createPodInventory, KUBE_RBAC as INVENTORY_RBAC } from '../../services/db-manager/src/kube/pod-inventory.js';
import { DB_MANAGER_KUBE_RBAC } from '../../services/db-manager/src/kube/rbac.js';
import { loadKubeConfig } from '../../services/db-manager/src/kube/kube-config.js';
import { startKubeApi, type KubeApiServer, type KubeObject } from '../support/index.js';
import { quietLogger, verbsOutside, waitFor } from './helpers.js';

function mysqlPod(name: string, opts: { role?: string; ip?: string | null; phase?: string; app?: string } = {}): KubeObject {
  const labels: Record<string, string> = { app: opts.app ?? 'mysql' };
  if (opts.role) labels[ROLE_LABEL] = opts.role;
  const status: Record<string, unknown> = { phase: opts.phase ?? 'Running' };
  if (opts.ip !== null) status['podIP'] = opts.ip ?? `10.1.0.${name.length}${name.at(-1)}`;
  return { kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { hostname: name, subdomain: 'mysql' }, status };
}

describe('pod role labeler', () => {
  let kube: KubeApiServer;
  const roles = (): Record<string, string | undefined> =>
    Object.fromEntries(kube.list('Pod', 'default').map((p) => [p.metadata.name, p.metadata.labels?.[ROLE_LABEL]]));

  before(async () => {
    kube = await startKubeApi();
  });
  after(() => kube.close());
  beforeEach(() => {
    kube.clearFaults();
    for (const p of kube.list('Pod')) kube.delete('Pod', 'default', p.metadata.name);
    kube.clearRequests();
  });

  const labeler = (labelSelector?: string): ReturnType<typeof createPodRoleLabeler> =>
    createPodRoleLabeler({ kubeConfig: kube.kubeConfig, namespace: 'default', logger: quietLogger, labelSelector });

  /** Watches which pods the mysql-primary Service would select, remembering the most it ever selected at once. */
  async function watchPrimarySelection(): Promise<{ max: () => number; selected: () => string[]; stop: () => void }> {
    const selected = new Set<string>();
    let max = 0;
    for (const p of kube.list('Pod')) if (p.metadata.labels?.[ROLE_LABEL] === 'primary') selected.add(p.metadata.name);
    max = selected.size;
    const ctl = await new Watch(kube.kubeConfig).watch(
      '/api/v1/namespaces/default/pods',
      { resourceVersion: String(kube.resourceVersion), labelSelector: `${ROLE_LABEL}=primary` },
      (type: string, obj: { metadata: { name: string } }) => {
        if (type === 'DELETED') selected.delete(obj.metadata.name);
        else selected.add(obj.metadata.name);
        max = Math.max(max, selected.size);
      },
      () => {},
    );
    await waitFor(() => kube.openWatches('Pod') === 1, 'selection watch');
    return { max: () => max, selected: () => [...selected].sort(), stop: () => ctl.abort() };
  }

  it('labels the primary and the replicas, keeping their other labels', async () => {
    for (const n of ['db-0', 'db-1', 'db-2']) kube.put(mysqlPod(n));
    await labeler().apply({ primaryPod: 'db-0', replicaPods: ['db-1', 'db-2'] });
    assert.deepEqual(roles(), { 'db-0': 'primary', 'db-1': 'replica', 'db-2': 'replica' });
    assert.equal(kube.get('Pod', 'default', 'db-0')?.metadata.labels?.['app'], 'mysql');
    // Applying the same roles again changes nothing.
    const rv = kube.resourceVersion;
    await labeler().apply({ primaryPod: 'db-0', replicaPods: ['db-1', 'db-2'] });
    assert.equal(kube.resourceVersion, rv);
  });

  it('demotes the old primary before promoting the new one, so the primary Service never selects two pods', async () => {
    kube.put(mysqlPod('db-0', { role: 'primary' }));
    kube.put(mysqlPod('db-1', { role: 'replica' }));
    kube.put(mysqlPod('db-2', { role: 'replica' }));
    const sel = await watchPrimarySelection();
    await labeler().apply({ primaryPod: 'db-1', replicaPods: ['db-0', 'db-2'] }); // switchover
    assert.deepEqual(roles(), { 'db-0': 'replica', 'db-1': 'primary', 'db-2': 'replica' });
    kube.clearRequests();
    await labeler().apply({ primaryPod: 'db-2', replicaPods: ['db-1'] }); // failover, db-0 fenced
    assert.deepEqual(roles(), { 'db-0': undefined, 'db-1': 'replica', 'db-2': 'primary' });
    const patches = kube.requests.filter((r) => r.verb === 'patch').map((r) => r.name);
    assert.deepEqual(patches.slice(0, 2), ['db-1', 'db-2'], 'demote of db-1 sent before promotion of db-2');
    await waitFor(() => sel.selected().join() === 'db-2', 'the watch saw every change');
    sel.stop();
    assert.equal(sel.max(), 1);
  });

  it('does not promote when the old primary could not be demoted', async () => {
    kube.put(mysqlPod('db-0', { role: 'primary' }));
    kube.put(mysqlPod('db-1', { role: 'replica' }));
    kube.addFault({ match: (r) => r.verb === 'patch' && r.name === 'db-0', status: 500 });
    await assert.rejects(labeler().apply({ primaryPod: 'db-1', replicaPods: [] }), (err) => err instanceof PodLabelError && err.pod === 'db-0');
    assert.deepEqual(roles(), { 'db-0': 'primary', 'db-1': 'replica' });
  });

  it('fails when the new primary pod does not exist, after demoting the old one', async () => {
    kube.put(mysqlPod('db-0', { role: 'primary' }));
    await assert.rejects(labeler().apply({ primaryPod: 'db-9', replicaPods: [] }), (err) => err instanceof PodLabelError && err.pod === 'db-9');
    assert.deepEqual(roles(), { 'db-0': undefined });
  });

  it('clears every role when there is no primary, and leaves pods outside its selector alone', async () => {
    kube.put(mysqlPod('db-0', { role: 'primary' }));
    kube.put(mysqlPod('db-1', { role: 'replica' }));
    kube.put(mysqlPod('other-0', { role: 'primary', app: 'other' }));
    await labeler('app=mysql').apply({ primaryPod: null, replicaPods: ['db-1'] });
    assert.deepEqual(roles(), { 'db-0': undefined, 'db-1': 'replica', 'other-0': 'primary' });
  });

  it('uses only the verbs its KUBE_RBAC lists', async () => {
    kube.put(mysqlPod('db-0', { role: 'primary' }));
    kube.put(mysqlPod('db-1'));
    await labeler().apply({ primaryPod: 'db-1', replicaPods: ['db-0'] });
    assert.ok(kube.requests.some((r) => r.verb === 'patch'));
    assert.deepEqual(verbsOutside(kube.requests, LABELER_RBAC), []);
  });
});

describe('pod inventory', () => {
  let kube: KubeApiServer;
  before(async () => {
    kube = await startKubeApi();
    kube.put(mysqlPod('db-1', { ip: '10.1.0.11' }));
    kube.put(mysqlPod('db-0', { ip: '10.1.0.10', role: 'primary' }));
    kube.put(mysqlPod('db-2', { ip: null, phase: 'Pending' })); // scheduled, no IP yet
    kube.put(mysqlPod('db-3', { ip: '10.1.0.13', phase: 'Failed' }));
    kube.put(mysqlPod('web-0', { ip: '10.1.0.99', app: 'web' }));
  });
  after(() => kube.close());

  it('lists the MySQL pods that have an IP, by pod name', async () => {
    const inv = createPodInventory({ kubeConfig: kube.kubeConfig, namespace: 'default', labelSelector: 'app=mysql', port: 3306, logger: quietLogger });
    assert.deepEqual(await inv.list(), [
      { id: 'db-0', host: '10.1.0.10', port: 3306, podName: 'db-0' },
      { id: 'db-1', host: '10.1.0.11', port: 3306, podName: 'db-1' },
    ]);
    kube.put(mysqlPod('db-2', { ip: '10.1.0.12' })); // now running
    assert.deepEqual((await inv.list()).map((i) => i.id), ['db-0', 'db-1', 'db-2']);
  });

  it('uses stable DNS names through the headless Service when configured (client loaded from a kubeconfig file)', async () => {
    const inv = createPodInventory({ kubeConfig: loadKubeConfig(kube.writeKubeConfig()), namespace: 'default', labelSelector: 'app=mysql', port: 3306, headlessService: 'mysql', logger: quietLogger });
    assert.deepEqual((await inv.list()).map((i) => `${i.id} ${i.host}:${i.port}`), ['db-0 db-0.mysql:3306', 'db-1 db-1.mysql:3306', 'db-2 db-2.mysql:3306']);
  });

  it('uses only the verbs its KUBE_RBAC lists, and the db-manager role covers all its adapters', async () => {
    kube.clearRequests();
    await createPodInventory({ kubeConfig: kube.kubeConfig, namespace: 'default', labelSelector: 'app=mysql', port: 3306, logger: quietLogger }).list();
    assert.deepEqual(verbsOutside(kube.requests, INVENTORY_RBAC), []);
    assert.deepEqual(DB_MANAGER_KUBE_RBAC, [
      { apiGroup: '', resource: 'pods', verbs: ['list', 'patch'] },
      { apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['create', 'get', 'update'] },
    ]);
  });
});
