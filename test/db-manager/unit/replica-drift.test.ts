// A replica that lost the settings the manager owns (slave_net_timeout after a restart, the
// heartbeat period) is found and repaired; one that has them is left alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '@dramble/db-manager';
import { replicaDrift } from '../../../services/db-manager/src/analysis/replica-drift.js';
import { healthy, instance, snapshot } from './snapshots.js';

type I = ReturnType<typeof instance>;
const good = (i: I): I => ({ ...i, replicaNetTimeoutSeconds: 4, receive: { heartbeats: 10, heartbeatPeriodSeconds: 1 } });

describe('replica settings drift', () => {
  it('finds nothing on a replica with the net timeout and heartbeat period the manager set', () => {
    const [, r2] = healthy() as [I, I, I];
    assert.equal(replicaDrift(good(r2), 2000), null);
    assert.equal(replicaDrift({ ...good(r2), replicaNetTimeoutSeconds: null }, 2000), null, 'unknown is not drift');
    assert.equal(replicaDrift({ ...good(r2), replication: null, replicaNetTimeoutSeconds: 60 }, 2000), null, 'not a replica');
  });

  it('finds a restarted replica back at the 60 s default net timeout', () => {
    const [, r2] = healthy() as [I, I, I];
    const d = replicaDrift({ ...good(r2), replicaNetTimeoutSeconds: 60 }, 2000);
    assert.deepEqual(d && { net: d.netTimeoutSeconds, hb: d.heartbeatPeriodSeconds }, { net: 4, hb: null });
    assert.match(d!.found.join(), /net timeout 60 s \(want 4 s\)/);
  });

  it('finds a heartbeat period too long to judge silence, only from a connected IO thread', () => {
    const [, r2] = healthy() as [I, I, I];
    const slow = { ...good(r2), receive: { heartbeats: 0, heartbeatPeriodSeconds: 30 } };
    assert.equal(replicaDrift(slow, 2000)?.heartbeatPeriodSeconds, 1);
    assert.equal(replicaDrift({ ...slow, replication: { ...slow.replication!, ioRunning: 'Connecting' } }, 2000), null);
  });

  it('plans one repair of both on a replica of the primary, never on a fenced one', () => {
    const [p, r2, r3] = healthy() as [I, I, I];
    const drifted = { ...r3, replicaNetTimeoutSeconds: 60, receive: { heartbeats: 0, heartbeatPeriodSeconds: 30 } };
    const a = analyze(snapshot([p, good(r2), drifted]));
    assert.equal(a.problem?.code, 'ReplicaSettingsDrift');
    assert.deepEqual(a.plan, { action: 'repairReplicaSettings', instanceId: 'db3:3306', netTimeoutSeconds: 4, heartbeatPeriodSeconds: 1 });
    const fenced = analyze(snapshot([p, good(r2), drifted], { quarantined: { 'db3:3306': 'errant' } }));
    assert.ok(!fenced.problems.some((x) => x.code === 'ReplicaSettingsDrift'));
  });
});
