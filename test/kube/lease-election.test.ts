// Leader election on a Kubernetes Lease: exactly one db-manager acts, and a standby takes over
// when the leader stops or dies.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createLeaseElection, KUBE_RBAC } from '../../services/db-manager/src/ha/lease-election.js';
import type { LeaderElection } from '../../services/db-manager/src/ha/types.js';
import { startKubeApi, type KubeApiServer } from '../support/index.js';
import { quietLogger, spawnElector, verbsOutside, waitFor } from './helpers.js';

const LEASE_MS = 2000;
const RENEW_MS = 300;

describe('Lease leader election', () => {
  let kube: KubeApiServer;
  const running: LeaderElection[] = [];
  let leaseSeq = 0;

  before(async () => {
    kube = await startKubeApi();
  });
  after(() => kube.close());
  afterEach(async () => {
    kube.clearFaults();
    await Promise.all(running.splice(0).map((e) => e.stop()));
  });

  const elector = (name: string, identity: string): LeaderElection => {
    const e = createLeaseElection({ kubeConfig: kube.kubeConfig, namespace: 'default', name, identity, leaseDurationMs: LEASE_MS, renewIntervalMs: RENEW_MS, logger: quietLogger });
    running.push(e);
    return e;
  };
  const holderOf = (name: string): unknown => (kube.get('Lease', 'default', name)?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity;

  it('makes exactly one of two candidates leader, and both agree who it is', async () => {
    const name = `lease-${++leaseSeq}`;
    const a = elector(name, 'a');
    const b = elector(name, 'b');
    await Promise.all([a.start(), b.start()]); // both race to create the Lease
    await waitFor(() => a.isLeader !== b.isLeader && a.holder === b.holder, 'one leader');
    const leader = a.isLeader ? a : b;
    assert.equal(holderOf(name), leader === a ? 'a' : 'b');
    // It stays that way over several renewals.
    const renewedFrom = Number(kube.get('Lease', 'default', name)?.metadata.resourceVersion);
    await waitFor(() => Number(kube.get('Lease', 'default', name)?.metadata.resourceVersion) >= renewedFrom + 3, 'three renewals');
    assert.equal(leader.isLeader, true);
    assert.equal([a, b].filter((e) => e.isLeader).length, 1);
  });

  it('hands over at once when the leader stops', async () => {
    const name = `lease-${++leaseSeq}`;
    const a = elector(name, 'a');
    const changes: boolean[] = [];
    a.onChange((l) => changes.push(l));
    await a.start();
    assert.equal(a.isLeader, true);
    const b = elector(name, 'b');
    await b.start();
    assert.equal(b.isLeader, false);
    assert.equal(b.holder, 'a');
    await a.stop();
    assert.deepEqual(changes, [true, false]);
    assert.equal(holderOf(name), '', 'released');
    const t0 = Date.now();
    await waitFor(() => b.isLeader, 'b takes over');
    assert.ok(Date.now() - t0 < LEASE_MS, `takeover after a release took ${Date.now() - t0} ms, less than a lease period expected`);
    const lease = kube.get('Lease', 'default', name)?.['spec'] as { holderIdentity: string; leaseTransitions: number };
    assert.equal(lease.holderIdentity, 'b');
    assert.equal(lease.leaseTransitions, 1); // a created it, b took it over
  });

  it('lets a standby take over within a lease period after the leader process is killed', async () => {
    const name = `lease-${++leaseSeq}`;
    const kubeconfig = kube.writeKubeConfig();
    const proc = spawnElector(['lease', kubeconfig, 'default', name, 'killed']);
    await waitFor(() => proc.lines.includes('leader'), 'child process leads', 30_000);
    const b = elector(name, 'standby');
    await b.start();
    assert.equal(b.isLeader, false);
    assert.equal(b.holder, 'killed');
    proc.spawned.child.kill('SIGKILL');
    await proc.spawned.exited;
    const t0 = Date.now();
    await waitFor(() => b.isLeader, 'standby takes over');
    const took = Date.now() - t0;
    // Expiry is counted from the last renewal the standby saw, plus at most one retry interval; allow for a loaded machine.
    assert.ok(took <= LEASE_MS + RENEW_MS + 1500, `takeover took ${took} ms`);
    assert.ok(took >= LEASE_MS - 1000, `took over after ${took} ms, before the dead leader's lease could have expired`);
    assert.equal(holderOf(name), 'standby');
  });

  it('steps down when it cannot renew, before anyone else could take over', async () => {
    const name = `lease-${++leaseSeq}`;
    const a = elector(name, 'a');
    await a.start();
    assert.equal(a.isLeader, true);
    kube.addFault({ match: (r) => r.resource === 'leases', status: 503, times: 1_000_000 });
    const t0 = Date.now();
    await waitFor(() => !a.isLeader, 'leader steps down');
    assert.ok(Date.now() - t0 < LEASE_MS, `stepped down after ${Date.now() - t0} ms; the lease lasts ${LEASE_MS} ms`);
    kube.clearFaults();
    await waitFor(() => a.isLeader, 'leads again once the API answers');
  });

  it('uses only the verbs its KUBE_RBAC lists', async () => {
    kube.clearRequests();
    const name = `lease-${++leaseSeq}`;
    const a = elector(name, 'a');
    const b = elector(name, 'b');
    await Promise.all([a.start(), b.start()]);
    await a.stop();
    await b.stop();
    const used = new Set(kube.requests.map((r) => `${r.group}/${r.resource}/${r.verb}`));
    assert.ok(used.has('coordination.k8s.io/leases/update'), 'exercised renew/release');
    assert.deepEqual(verbsOutside(kube.requests, KUBE_RBAC), []);
  });
});
