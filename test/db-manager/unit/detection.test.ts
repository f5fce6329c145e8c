// The decisions behind hung-primary detection, semi-sync waiting and fencing on wake, as pure
// functions over snapshots: no sockets, no clocks (NOW is fixed).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '@dramble/db-manager';
import { heartbeatsShortEnough, nextReceivedAt, receiveSignature, replicaSeesPrimary } from '../../../services/db-manager/src/analysis/freshness.js';
import { SEMI_SYNC_TIMEOUT_MS, semiSyncChange, semiSyncDecision, waitAfterPromotion } from '../../../services/db-manager/src/analysis/semi-sync.js';
import type { InstanceSnapshot, SemiSyncState } from '../../../services/db-manager/src/analysis/snapshot.js';
import { dead, healthy, instance, NOW, snapshot } from './snapshots.js';

type I = InstanceSnapshot;
const three = (): [I, I, I] => healthy() as [I, I, I];
const FAST = { heartbeats: 10, heartbeatPeriodSeconds: 1 };

/** A replica whose IO thread says Yes but that received nothing (no heartbeat row, no event) for `ms`. */
function silent(i: I, ms: number, receive = FAST): I {
  return { ...i, heartbeatTs: NOW - ms, receivedAt: NOW - ms, receive };
}

function semi(over: Partial<SemiSyncState> = {}): SemiSyncState {
  return { sourceEnabled: false, replicaEnabled: true, sourceActive: false, clients: 0, timeoutMs: SEMI_SYNC_TIMEOUT_MS, ...over };
}

describe('does a replica still see the primary', () => {
  it('yes while the heartbeat row it applied is fresh', () => {
    const [, r] = three();
    assert.equal(replicaSeesPrimary(snapshot(three()), { ...r, heartbeatTs: NOW - 1500, receivedAt: NOW - 9000, receive: FAST }).sees, true);
  });

  it('yes while it receives replication heartbeats although the heartbeat row is stale (the manager cannot write it)', () => {
    const [, r] = three();
    const v = replicaSeesPrimary(snapshot(three()), { ...r, heartbeatTs: NOW - 9000, receivedAt: NOW - 300, receive: FAST });
    assert.equal(v.sees, true);
    assert.match(v.reason, /received 0.3 s ago/);
  });

  it('no when the IO thread says Yes but nothing arrived for longer than replica-silence-ms under a 1 s heartbeat period', () => {
    const [, r] = three();
    const v = replicaSeesPrimary(snapshot(three()), silent(r, 2500));
    assert.equal(v.sees, false);
    assert.match(v.reason, /nothing received for 2.5 s/);
    assert.equal(replicaSeesPrimary(snapshot(three()), silent(r, 2000)).sees, true, 'exactly the silence limit still counts as seeing');
  });

  it('takes the IO thread at its word when heartbeats are too rare to judge silence', () => {
    const [, r] = three();
    assert.equal(replicaSeesPrimary(snapshot(three()), silent(r, 9000, { heartbeats: 0, heartbeatPeriodSeconds: 30 })).sees, true);
    assert.equal(replicaSeesPrimary(snapshot(three()), silent(r, 9000, { heartbeats: null, heartbeatPeriodSeconds: null } as never)).sees, true);
    assert.equal(heartbeatsShortEnough({ heartbeats: 1, heartbeatPeriodSeconds: 1 }, 2000), true);
    assert.equal(heartbeatsShortEnough({ heartbeats: 1, heartbeatPeriodSeconds: 2 }, 2000), false);
  });

  it('no when the IO thread is reconnecting, whatever it received before', () => {
    const [, r] = three();
    assert.equal(replicaSeesPrimary(snapshot(three()), { ...r, replication: { ...r.replication!, ioRunning: 'Connecting' } }).sees, false);
  });
});

describe('when the manager last saw a replica receive', () => {
  const base = { replication: instance(2).replication, receive: FAST };

  it('is the probe time when the received position or the heartbeat count moved', () => {
    const before = receiveSignature(base);
    const more = receiveSignature({ ...base, receive: { ...FAST, heartbeats: 11 } });
    assert.notEqual(before, more);
    assert.equal(nextReceivedAt({ reachable: true, receivedAt: NOW - 5000, signature: before }, { reachable: true, signature: more, probedAt: NOW }), NOW);
    const gtid = receiveSignature({ ...base, replication: { ...base.replication!, gtidIoPos: '0-1-101' } });
    assert.equal(nextReceivedAt({ reachable: true, receivedAt: NOW - 5000, signature: before }, { reachable: true, signature: gtid, probedAt: NOW }), NOW);
  });

  it('stays put while nothing moves, and while the replica cannot be probed', () => {
    const sig = receiveSignature(base);
    assert.equal(nextReceivedAt({ reachable: true, receivedAt: NOW - 5000, signature: sig }, { reachable: true, signature: sig, probedAt: NOW }), NOW - 5000);
    assert.equal(nextReceivedAt({ reachable: true, receivedAt: NOW - 5000, signature: sig }, { reachable: false, signature: null, probedAt: NOW }), NOW - 5000);
  });

  it('gives a replica seen for the first time the benefit of the doubt, and a non-replica none', () => {
    assert.equal(nextReceivedAt({ reachable: false, receivedAt: null, signature: null }, { reachable: true, signature: receiveSignature(base), probedAt: NOW }), NOW);
    assert.equal(nextReceivedAt({ reachable: true, receivedAt: NOW - 10, signature: 'x' }, { reachable: true, signature: null, probedAt: NOW }), null);
  });
});

describe('hung or partitioned primary', () => {
  it('fails over when the primary hangs: the replicas\' IO threads say Yes but they received nothing', () => {
    const [p, r2, r3] = three();
    const a = analyze(snapshot([{ ...dead(p), lastError: 'probe of db1 timed out' }, silent(r2, 3000), silent(r3, 3000)]));
    assert.equal(a.problem?.code, 'DeadPrimary');
    assert.equal(a.plan.action, 'failover');
  });

  it('does not fail over when only the manager lost the primary and the replicas still receive heartbeats', () => {
    const [p, r2, r3] = three();
    const receiving = (r: I): I => ({ ...r, heartbeatTs: NOW - 8000, receivedAt: NOW - 400, receive: FAST });
    const a = analyze(snapshot([dead(p, 8, 8000), receiving(r2), receiving(r3)]));
    assert.equal(a.problem?.code, 'PrimaryUnreachableFromManager');
    assert.equal(a.plan.action, 'none');
  });

  it('does not fail over while one replica still receives although another went silent', () => {
    const [p, r2, r3] = three();
    const a = analyze(snapshot([dead(p, 8, 8000), silent(r2, 5000), { ...r3, heartbeatTs: NOW - 8000, receivedAt: NOW - 100, receive: FAST }]));
    assert.equal(a.problem?.code, 'PrimaryUnreachableFromManager');
    assert.match(a.problem?.detail ?? '', /db3:3306/);
  });
});

describe('semi-sync waiting', () => {
  const on = { semiSync: true };
  const withPrimary = (p: I, sync: Partial<SemiSyncState>): I => ({ ...p, semiSync: semi(sync) });
  const replicaOk = (r: I): I => ({ ...r, semiSync: semi() });

  it('switches waiting on when a healthy semi-sync replica exists', () => {
    const [p, r2, r3] = three();
    const s = snapshot([withPrimary(p, { clients: 2 }), replicaOk(r2), replicaOk(r3)], { policy: { ...snapshot([]).policy, ...on } });
    assert.deepEqual(semiSyncDecision(s).ackers, ['db2:3306', 'db3:3306']);
    const a = analyze(s);
    assert.equal(a.problem?.code, 'SemiSyncMismatch');
    assert.deepEqual({ ...a.plan, reason: '' }, { action: 'semiSyncWait', instanceId: 'db1:3306', on: true, reason: '' });
  });

  it('switches waiting off when no replica can acknowledge (down, silent, replica side off or fenced)', () => {
    const [p, r2, r3] = three();
    const policy = { ...snapshot([]).policy, ...on };
    const downAndSilent = snapshot([withPrimary(p, { sourceEnabled: true, clients: 1 }), dead(r2), silent(replicaOk(r3), 4000)], { policy });
    assert.deepEqual(analyze(downAndSilent).plan, { action: 'semiSyncWait', instanceId: 'db1:3306', on: false, reason: 'no healthy semi-sync replica' });
    const sideOff = snapshot([withPrimary(p, { sourceEnabled: true, clients: 1 }), { ...r2, semiSync: semi({ replicaEnabled: false }) }, dead(r3)], { policy });
    assert.equal(semiSyncChange(sideOff)?.wait, false);
    const fenced = snapshot([withPrimary(p, { sourceEnabled: true, clients: 1 }), replicaOk(r2), dead(r3)], { policy, quarantined: { 'db2:3306': 'errant' } });
    assert.equal(semiSyncChange(fenced)?.wait, false);
  });

  it('does not wait while the primary counts no semi-sync client: every write would stop', () => {
    const [p, r2, r3] = three();
    const s = snapshot([withPrimary(p, { clients: 0 }), replicaOk(r2), replicaOk(r3)], { policy: { ...snapshot([]).policy, ...on } });
    assert.equal(semiSyncDecision(s).wait, false);
    assert.equal(semiSyncChange(s), null, 'already not waiting: nothing to change');
  });

  it('raises a timeout the primary could reach, so it never falls back to async on its own', () => {
    const [p, r2, r3] = three();
    const s = snapshot([withPrimary(p, { sourceEnabled: true, clients: 2, timeoutMs: 10_000 }), replicaOk(r2), replicaOk(r3)], { policy: { ...snapshot([]).policy, ...on } });
    const c = semiSyncChange(s);
    assert.equal(c?.wait, true);
    assert.equal(c?.raiseTimeout, true);
    assert.equal(semiSyncChange(snapshot([withPrimary(p, { sourceEnabled: true, clients: 2 }), replicaOk(r2), replicaOk(r3)], { policy: { ...snapshot([]).policy, ...on } })), null);
  });

  it('changes nothing when semi-sync is not managed or the primary cannot be reached', () => {
    const [p, r2, r3] = three();
    assert.equal(semiSyncChange(snapshot([withPrimary(p, { sourceEnabled: true, clients: 1 }), dead(r2), dead(r3)])), null, 'semi-sync off in the policy');
    const policy = { ...snapshot([]).policy, ...on };
    assert.equal(semiSyncChange(snapshot([dead(p), replicaOk(r2), replicaOk(r3)], { policy })), null);
  });

  it('lets a promoted replica wait only when another replica will be there to acknowledge', () => {
    const [p, r2, r3] = three();
    assert.equal(waitAfterPromotion(snapshot([dead(p), replicaOk(r2), replicaOk(r3)]), 'db2:3306'), true);
    assert.equal(waitAfterPromotion(snapshot([dead(p), replicaOk(r2), dead(r3)]), 'db2:3306'), false, 'the only other replica is down');
    assert.equal(waitAfterPromotion(snapshot([dead(p), replicaOk(r2), replicaOk(r3)], { quarantined: { 'db3:3306': 'errant' } }), 'db2:3306'), false);
  });

  it('repairs a replica whose semi-sync side is off and one whose heartbeat period is too long to judge silence', () => {
    const [p, r2, r3] = three();
    const policy = { ...snapshot([]).policy, ...on };
    const s = snapshot([withPrimary(p, { sourceEnabled: true, clients: 1 }), replicaOk(r2), { ...r3, semiSync: semi({ replicaEnabled: false }) }], { policy });
    assert.deepEqual(analyze(s).problems.find((x) => x.code === 'ReplicaSemiSyncOff')?.plan, { action: 'enableSemiSyncReplica', instanceId: 'db3:3306' });
    const slow = snapshot([p, r2, { ...r3, receive: { heartbeats: 0, heartbeatPeriodSeconds: 30 } }]);
    assert.deepEqual(analyze(slow).plan, { action: 'repairReplicaSettings', instanceId: 'db3:3306', netTimeoutSeconds: null, heartbeatPeriodSeconds: 1 });
  });
});

describe('an old primary waking up after a failover', () => {
  it('is fenced before anything else, even before a failover decision', () => {
    const [, r2, r3] = three();
    // db2 is the primary now; db1 (the old one, quarantined) woke up writable.
    const old = instance(1, { readOnly: false, replication: null });
    const s = snapshot([old, { ...r2, readOnly: false, replication: null }, { ...r3, replication: { ...r3.replication!, sourceHost: 'db2', sourceServerId: 2 } }], {
      primaryId: 'db2:3306', quarantined: { 'db1:3306': 'old primary' },
    });
    const a = analyze(s);
    assert.equal(a.problem?.code, 'FencedInstanceWritable');
    assert.deepEqual(a.plan, { action: 'fence', instanceId: 'db1:3306' });
    const withDeadPrimary = analyze({ ...s, instances: [old, dead({ ...r2, readOnly: false, replication: null }), s.instances[2]!] });
    assert.deepEqual(withDeadPrimary.plan, { action: 'fence', instanceId: 'db1:3306' }, 'fencing does not wait for the primary');
  });

  it('is never made writable again: a fenced read-only old primary is only re-attached as a replica or left fenced', () => {
    const [, r2, r3] = three();
    const old = instance(1, { readOnly: true, replication: null });
    const s = snapshot([old, { ...r2, readOnly: false, replication: null }, { ...r3, replication: { ...r3.replication!, sourceHost: 'db2', sourceServerId: 2 } }], {
      primaryId: 'db2:3306', quarantined: { 'db1:3306': 'old primary' },
    });
    const plans = analyze(s).problems.map((x) => x.plan);
    assert.ok(!plans.some((pl) => pl.action === 'setWritable' && pl.instanceId === 'db1:3306'));
    const errant = analyze({ ...s, instances: [{ ...old, gtidBinlogState: '0-1-101' }, ...s.instances.slice(1)] });
    assert.deepEqual(errant.errant['db1:3306'], ['0-1-101']);
    assert.ok(!errant.problems.some((x) => x.plan.action === 'rejoin' || x.plan.action === 'setWritable'), 'errant GTIDs: it stays fenced');
  });
});
