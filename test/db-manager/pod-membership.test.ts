// In Kubernetes the MySQL pods can change while the manager runs (StatefulSet scaled, pod deleted,
// rescheduled with a new IP): the manager follows the pod list without a restart. Real MariaDB servers
// behind TCP relays, one loopback address per pod (127.0.0.2, .3, ...) and the same MySQL port on each,
// as pod IPs would be; the pods live in the protocol-speaking test API server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@dramble/lib';
import type { RunningManager } from '@dramble/db-manager';
import { followPods, type PodFollower } from '../../services/db-manager/src/kube/pod-follower.js';
import { createPodInventory } from '../../services/db-manager/src/kube/pod-inventory.js';
import { freePort, startKubeApi, startReplicationCluster, type KubeApiServer, type MariaDBInstance, type ReplicationCluster } from '../support/index.js';
import { TcpRelay } from './support/relay.js';
import { startTestManager, topology, waitFor } from './support/helpers.js';

const SELECTOR = 'app.kubernetes.io/name=mysql';

describe('the manager following MySQL pods', () => {
  let cluster: ReplicationCluster;
  let kube: KubeApiServer;
  let m: RunningManager;
  let follower: PodFollower;
  let port: number;
  const relays: TcpRelay[] = [];

  /** A relay to `server` on 127.0.0.<n>:<port>: the address a pod with that IP would have. */
  const podAddress = async (n: number, server: MariaDBInstance): Promise<string> => {
    const relay = new TcpRelay(server);
    relays.push(relay);
    await relay.listen(port, `127.0.0.${n}`);
    return `127.0.0.${n}`;
  };
  const putPod = (name: string, podIP: string): void => {
    kube.put({ kind: 'Pod', metadata: { name, namespace: 'default', labels: { 'app.kubernetes.io/name': 'mysql' } }, status: { phase: 'Running', podIP } });
  };
  const instances = async (): Promise<Record<string, string>> => Object.fromEntries((await topology(m)).instances.map((i) => [i.id, `${i.host} ${i.role}${i.healthy ? '' : ' (unhealthy)'}`]));

  before(async () => {
    [cluster, kube] = await Promise.all([startReplicationCluster({ replicas: 2 }), startKubeApi()]);
    port = await freePort();
    const [r1, r2] = cluster.replicas as [MariaDBInstance, MariaDBInstance];
    putPod('mysql-0', await podAddress(2, cluster.primary));
    putPod('mysql-1', await podAddress(3, r1));
    await podAddress(4, r2); // mysql-2 is scaled in later
    const logger = createLogger({ name: 'db-manager', level: 'silent' });
    const inventory = createPodInventory({ kubeConfig: kube.kubeConfig, namespace: 'default', labelSelector: SELECTOR, port, logger });
    const initial = await inventory.list();
    m = await startTestManager([], {}, { instances: initial });
    follower = followPods(inventory, (list) => m.manager.setInstances(list), { logger, intervalMs: 200 });
    await waitFor('a healthy two-pod topology', async () => {
      const v = await topology(m);
      return v.primary === 'mysql-0' && v.instances.length === 2 && v.instances.every((i) => i.healthy) ? v : undefined;
    });
  });
  after(async () => {
    follower?.stop();
    await m?.close();
    await Promise.all(relays.map((r) => r.close()));
    await Promise.all([cluster?.destroy(), kube?.close()]);
  });

  it('starts watching a pod that was added', async () => {
    putPod('mysql-2', '127.0.0.4');
    await waitFor('mysql-2 as a healthy replica', async () => ((await instances())['mysql-2'] === '127.0.0.4 replica' ? true : undefined), 15_000);
    assert.deepEqual(Object.keys(await instances()), ['mysql-0', 'mysql-1', 'mysql-2']);
    const events = (await (await fetch(`${m.adminUrl}/api/events`)).json()) as { events: Array<{ message: string }> };
    assert.ok(events.events.some((e) => e.message === 'instances changed: added mysql-2'));
  });

  it('follows a pod to its new address', async () => {
    await podAddress(5, cluster.replicas[1]!);
    putPod('mysql-2', '127.0.0.5');
    await waitFor('mysql-2 probed at 127.0.0.5', async () => ((await instances())['mysql-2'] === '127.0.0.5 replica' ? true : undefined), 15_000);
  });

  it('stops watching a replica pod that was removed, and its metrics go with it', async () => {
    kube.delete('Pod', 'default', 'mysql-1');
    await waitFor('mysql-1 gone', async () => ((await instances())['mysql-1'] === undefined ? true : undefined), 15_000);
    const metrics = await (await fetch(`${m.adminUrl}/metrics`)).text();
    assert.doesNotMatch(metrics, /instance="mysql-1"/);
    assert.match(metrics, /dramble_db_instance_up\{[^}]*instance="mysql-2"[^}]*\} 1/);
  });

  it('keeps the primary when its pod disappears from the list', async () => {
    kube.delete('Pod', 'default', 'mysql-0');
    await new Promise((r) => setTimeout(r, 1500)); // several re-lists and probe rounds
    const v = await topology(m);
    assert.equal(v.primary, 'mysql-0');
    assert.ok(v.instances.some((i) => i.id === 'mysql-0' && i.healthy), 'still probed and healthy');
  });
});
