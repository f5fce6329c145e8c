// In Kubernetes: instances are pods, the manager holds a Lease and labels the primary pod so the
// mysql-primary Service follows it. Against the protocol-speaking test API server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@dramble/lib';
import type { RunningManager } from '@dramble/db-manager';
import { createLeaseElection } from '../../services/db-manager/src/ha/lease-election.js';
import { createPodRoleLabeler, ROLE_LABEL } from '../../services/db-manager/src/kube/pod-labeler.js';
import { startKubeApi, startReplicationCluster, type KubeApiServer, type ReplicationCluster } from '../support/index.js';
import { startTestManager, topology, waitFor } from './support/helpers.js';

const PODS = ['mysql-0', 'mysql-1', 'mysql-2'];

describe('the manager in Kubernetes', () => {
  let cluster: ReplicationCluster;
  let kube: KubeApiServer;
  let m: RunningManager;

  const roles = (): Record<string, string | undefined> => Object.fromEntries(kube.list('Pod', 'default').map((p) => [p.metadata.name, p.metadata.labels?.[ROLE_LABEL]]));

  before(async () => {
    [cluster, kube] = await Promise.all([startReplicationCluster({ replicas: 2 }), startKubeApi()]);
    for (const name of PODS) kube.put({ kind: 'Pod', metadata: { name, namespace: 'default', labels: { 'app.kubernetes.io/name': 'mysql' } }, status: { phase: 'Running', podIP: '127.0.0.1' } });
    const logger = createLogger({ name: 'db-manager', level: 'silent' });
    const labeler = createPodRoleLabeler({ kubeConfig: kube.kubeConfig, namespace: 'default', logger, labelSelector: 'app.kubernetes.io/name=mysql' });
    const election = createLeaseElection({ kubeConfig: kube.kubeConfig, namespace: 'default', name: 'dramble-db-manager', identity: 'manager-a', leaseDurationMs: 3000, renewIntervalMs: 1000, logger });
    // Instance ids are pod names, as with --discovery kubernetes.
    const instances = cluster.all.map((i, n) => ({ id: PODS[n]!, host: i.host, port: i.port }));
    m = await startTestManager([], {}, { instances, election, onTopologyChange: (t) => labeler.apply({ primaryPod: t.primary?.id ?? null, replicaPods: t.replicas.map((r) => r.id) }) });
  });
  after(async () => {
    await m?.close();
    await Promise.all([cluster?.destroy(), kube?.close()]);
  });

  it('holds the Lease and moves the primary label on failover', async () => {
    await waitFor('labels on every pod', () => (roles()['mysql-0'] === 'primary' && roles()['mysql-1'] === 'replica' && roles()['mysql-2'] === 'replica') || undefined);
    const lease = kube.get('Lease', 'default', 'dramble-db-manager');
    assert.equal((lease?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity, 'manager-a');
    assert.equal((await topology(m)).leader, true);

    await cluster.primary.kill();
    const v = await waitFor('a failover', async () => {
      const t = await topology(m);
      return t.primary !== 'mysql-0' ? t : undefined;
    });
    await waitFor('the primary label on the new primary pod', () => (roles()[v.primary!] === 'primary' ? true : undefined));
    const r = roles();
    assert.equal(Object.values(r).filter((x) => x === 'primary').length, 1, 'exactly one pod is labelled primary');
    assert.equal(r['mysql-0'], undefined, 'the dead old primary leaves both Services');
  });
});
