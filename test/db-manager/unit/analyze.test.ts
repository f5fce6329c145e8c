// The analysis is a pure function: each test feeds a snapshot and checks the named problem and
// the plan, without opening a socket.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, PROBLEMS } from '@dramble/db-manager';
import { dead, healthy, instance, lostPrimary, NOW, replication, snapshot } from './snapshots.js';

const codes = (s: ReturnType<typeof snapshot>): string[] => analyze(s).problems.map((p) => p.code);

describe('analysis of a topology snapshot', () => {
  it('finds nothing wrong with a healthy primary and two replicas', () => {
    const a = analyze(snapshot(healthy()));
    assert.equal(a.problem, null);
    assert.deepEqual(a.plan, { action: 'none', reason: 'healthy' });
  });

  it('declares the primary dead only after N failed probes over T, when every replica lost it too', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([dead(p), lostPrimary(r2, '0-1-101'), lostPrimary(r3, '0-1-100')]));
    assert.equal(a.problem?.code, 'DeadPrimary');
    assert.deepEqual(a.plan, { action: 'failover', candidateId: 'db2:3306' }, 'the replica that received most is promoted');
  });

  it('waits while the failed probes are too few or too recent', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const few = analyze(snapshot([dead(p, 2), lostPrimary(r2), lostPrimary(r3)]));
    assert.equal(few.problem?.code, 'PrimarySuspect');
    assert.equal(few.plan.action, 'none');
    const recent = analyze(snapshot([dead(p, 3, 1000), lostPrimary(r2), lostPrimary(r3)]));
    assert.equal(recent.problem?.code, 'PrimarySuspect');
    assert.equal(recent.plan.action, 'none');
  });

  it('does not fail over when only the manager lost the primary and a replica still replicates from it', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([dead(p, 10, 20_000), r2, lostPrimary(r3)]));
    assert.equal(a.problem?.code, 'PrimaryUnreachableFromManager');
    assert.equal(a.plan.action, 'none');
    assert.match(a.problem?.detail ?? '', /db2:3306/);
  });

  it('fails over to a surviving replica when the primary and some replicas are dead', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([dead(p), { ...dead(r2), replication: r2.replication }, lostPrimary(r3)]));
    assert.equal(a.problem?.code, 'DeadPrimaryAndSomeReplicas');
    assert.deepEqual(a.plan, { action: 'failover', candidateId: 'db3:3306' });
  });

  it('does nothing when the primary and every replica are dead', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([dead(p), { ...dead(r2), replication: r2.replication }, { ...dead(r3), replication: r3.replication }]));
    assert.equal(a.problem?.code, 'DeadPrimaryAndReplicas');
    assert.equal(a.plan.action, 'none');
  });

  it('never promotes a replica with a broken SQL thread, errant GTIDs or too much lag', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const broken = lostPrimary({ ...r2, replication: replication('db1', 1, { sqlRunning: false, lastSqlErrno: 1062, lastSqlError: "Duplicate entry '7'" }) }, '0-1-105');
    const a = analyze(snapshot([dead(p), broken, lostPrimary(r3)]));
    assert.deepEqual(a.plan, { action: 'failover', candidateId: 'db3:3306' });

    const errant = analyze(snapshot([dead(p), lostPrimary(r2, '0-1-105'), lostPrimary(r3)], { knownErrant: { 'db2:3306': ['0-2-1'] } }));
    assert.deepEqual(errant.plan, { action: 'failover', candidateId: 'db3:3306' });

    const lagging = analyze(snapshot([dead(p), lostPrimary({ ...r2, heartbeatTs: NOW - 60_000 }, '0-1-90'), lostPrimary(r3)], { policy: { ...snapshot([]).policy, maxPromotionLagSeconds: 30 } }));
    assert.deepEqual(lagging.plan, { action: 'failover', candidateId: 'db3:3306' });

    const none = analyze(snapshot([dead(p), broken, lostPrimary({ ...r3, heartbeatTs: NOW - 600_000 })]));
    assert.equal(none.problem?.code, 'DeadPrimary');
    assert.equal(none.plan.action, 'none');
    assert.match(none.plan.action === 'none' ? none.plan.reason : '', /no replica can be promoted.*SQL thread broken/);
  });

  it('breaks ties between equally advanced replicas by configured priority', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([dead(p), lostPrimary({ ...r2, priority: 5 }), lostPrimary({ ...r3, priority: 1 })]));
    assert.deepEqual(a.plan, { action: 'failover', candidateId: 'db3:3306' });
  });

  it('does not fail over twice within the cooldown', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([dead(p), lostPrimary(r2), lostPrimary(r3)], { lastFailoverAt: NOW - 10_000 }));
    assert.equal(a.problem?.code, 'DeadPrimary');
    assert.equal(a.plan.action, 'none');
    assert.match(a.plan.action === 'none' ? a.plan.reason : '', /cooldown/);
  });

  it('starts a replica whose threads were stopped without an error', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([p, { ...r2, replication: replication('db1', 1, { ioRunning: 'No', sqlRunning: false }) }, r3]));
    assert.equal(a.problem?.code, 'ReplicaStopped');
    assert.deepEqual(a.plan, { action: 'startReplication', instanceId: 'db2:3306' });
  });

  it('reports broken replication with the error and leaves it to a person', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([p, r2, { ...r3, replication: replication('db1', 1, { sqlRunning: false, lastSqlErrno: 1062, lastSqlError: "Duplicate entry '7' for key 'PRIMARY'" }) }]));
    assert.equal(a.problem?.code, 'ReplicationBroken');
    assert.equal(a.problem?.instanceId, 'db3:3306');
    assert.match(a.problem?.detail ?? '', /1062: Duplicate entry/);
    assert.equal(a.plan.action, 'none');
  });

  it('reports a lagging replica from the heartbeat', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([p, { ...r2, heartbeatTs: NOW - 20_500, replication: replication('db1', 1, { secondsBehindSource: 0 }) }, r3]));
    assert.equal(a.problem?.code, 'ReplicaLagging');
    assert.match(a.problem?.detail ?? '', /20\.0 s behind/);
  });

  it('repoints a replica that replicates from another instance than the primary', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([p, r2, { ...r3, replication: replication('db2', 2) }]));
    assert.equal(a.problem?.code, 'ReplicaWrongPrimary');
    assert.deepEqual(a.plan, { action: 'rejoin', instanceId: 'db3:3306' });
  });

  it('makes a read-only primary writable', () => {
    const [p, r2, r3] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([{ ...p, readOnly: true }, r2, r3]));
    assert.equal(a.problem?.code, 'PrimaryIsReadOnly');
    assert.deepEqual(a.plan, { action: 'setWritable', instanceId: 'db1:3306' });
  });

  it('fences a second writable primary (split brain)', () => {
    const [p, r2] = healthy() as [ReturnType<typeof instance>, ReturnType<typeof instance>];
    const a = analyze(snapshot([p, r2, instance(3, { readOnly: false, replication: null })]));
    assert.equal(a.problem?.code, 'SplitBrain');
    assert.deepEqual(a.plan, { action: 'fence', instanceId: 'db3:3306' });
  });

  it('names errant GTIDs of a returning old primary and keeps it fenced', () => {
    const p = instance(2, { readOnly: false, replication: null, gtidBinlogState: '0-1-100,0-2-150', gtidBinlogPos: '0-2-150' });
    const old = instance(1, { readOnly: true, replication: null, gtidBinlogState: '0-1-101', gtidBinlogPos: '0-1-101' });
    const s = snapshot([old, p, instance(3, { replication: replication('db2', 2) })], { primaryId: 'db2:3306', quarantined: { 'db1:3306': 'old primary' } });
    const a = analyze(s);
    assert.equal(a.problem?.code, 'ErrantGtids');
    assert.equal(a.problem?.instanceId, 'db1:3306');
    assert.match(a.problem?.detail ?? '', /0-1-101/);
    assert.deepEqual(a.errant, { 'db1:3306': ['0-1-101'] });
    assert.equal(a.plan.action, 'none', 'already fenced: nothing more to do, and above all no rejoin');
  });

  it('re-attaches a returning old primary without errant GTIDs, unless auto-rejoin is off', () => {
    const p = instance(2, { readOnly: false, replication: null, gtidBinlogState: '0-1-100,0-2-150', gtidBinlogPos: '0-2-150' });
    const old = instance(1, { readOnly: true, replication: null, gtidBinlogState: '0-1-100' });
    const s = snapshot([old, p, instance(3, { replication: replication('db2', 2) })], { primaryId: 'db2:3306', quarantined: { 'db1:3306': 'old primary' } });
    assert.deepEqual(analyze(s).plan, { action: 'rejoin', instanceId: 'db1:3306' });
    const off = analyze({ ...s, policy: { ...s.policy, autoRejoin: false } });
    assert.equal(off.problem?.code, 'InstanceNotReplicating');
    assert.equal(off.plan.action, 'none');
  });

  it('keeps every problem in one table with a description and a distinct priority', () => {
    assert.ok(PROBLEMS.length >= 10);
    assert.equal(new Set(PROBLEMS.map((p) => p.priority)).size, PROBLEMS.length);
    for (const p of PROBLEMS) assert.ok(p.description.length > 10, p.code);
    assert.deepEqual(codes(snapshot(healthy())), []);
  });
});
