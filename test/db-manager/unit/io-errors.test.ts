// A replica whose IO thread stopped on a network error is restarted, with backoff; real breakage
// (SQL thread errors, 1236 binlog missing, bad credentials) still waits for a person.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '@dramble/db-manager';
import { afterRestart, restartableIoStop, restartDelayMs, restartWaitMs, transientIoError } from '../../../services/db-manager/src/analysis/io-errors.js';
import { dead, healthy, instance, NOW, replication, snapshot } from './snapshots.js';

type I = ReturnType<typeof instance>;
const ioStopped = (i: I, errno: number, error: string): I => ({ ...i, replication: replication('db1', 1, { ioRunning: 'No', lastIoErrno: errno, lastIoError: error }) });
const lost2013 = "error reconnecting to master 'repl@db1:3306' - retry-time: 1  maximum-retries: 100000  message: Lost connection to server during query (2013) Connection reset by peer";

describe('classifying IO thread errors', () => {
  it('counts network errors as transient and the rest as real breakage', () => {
    for (const e of [2003, 2013, 2006, 1158, 1159, 1160, 1161, 2002, 1040, 1053, 1927, 1184]) assert.equal(transientIoError(e), true, `${e}`);
    for (const e of [1236, 1045, 1593, 1595, 1062, 0]) assert.equal(transientIoError(e), false, `${e}`);
  });

  it('restarts only a stopped IO thread with a clean SQL thread', () => {
    const r = replication('db1', 1, { ioRunning: 'No', lastIoErrno: 2013, lastIoError: 'lost' });
    assert.equal(restartableIoStop(r), true);
    assert.equal(restartableIoStop({ ...r, ioRunning: 'Connecting' }), false, 'still retrying on its own');
    assert.equal(restartableIoStop({ ...r, lastSqlErrno: 1062, sqlRunning: false }), false, 'the SQL thread is broken too');
    assert.equal(restartableIoStop({ ...r, lastIoErrno: 1236 }), false);
  });

  it('backs off: at once, then 2 s, 4 s, 8 s ... capped at a minute', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 10, 50].map(restartDelayMs), [0, 2000, 4000, 8000, 16_000, 60_000, 60_000]);
    const h = afterRestart(afterRestart(undefined, NOW - 10_000), NOW - 1000);
    assert.deepEqual(h, { attempts: 2, lastAt: NOW - 1000 });
    assert.equal(restartWaitMs(h, NOW), 3000);
    assert.equal(restartWaitMs(h, NOW + 5000), 0);
    assert.equal(restartWaitMs(undefined, NOW), 0);
  });
});

describe('a replica whose IO thread stopped while its source restarted', () => {
  it('is restarted, not left for a person', () => {
    const [p, r2, r3] = healthy() as [I, I, I];
    const a = analyze(snapshot([p, r2, ioStopped(r3, 2013, lost2013)]));
    assert.equal(a.problem?.code, 'ReplicaIoInterrupted');
    assert.match(a.problem?.detail ?? '', /error 2013: .*Connection reset by peer/);
    assert.deepEqual(a.plan, { action: 'restartReplication', instanceId: 'db3:3306' });
    assert.ok(!a.problems.some((x) => x.code === 'ReplicationBroken'));
  });

  it('waits out the backoff after earlier restarts', () => {
    const [p, r2, r3] = healthy() as [I, I, I];
    const s = snapshot([p, r2, ioStopped(r3, 2003, "Can't connect to server on 'db1' (111)")], { replicationRestarts: { 'db3:3306': { attempts: 3, lastAt: NOW - 2000 } } });
    const a = analyze(s);
    assert.equal(a.problem?.code, 'ReplicaIoInterrupted');
    assert.equal(a.plan.action, 'none');
    const own = a.problem!.plan;
    assert.match(own.action === 'none' ? own.reason : '', /3 time\(s\); next restart in 6\.0 s/);
    assert.deepEqual(analyze({ ...s, now: NOW + 6000 }).plan, { action: 'restartReplication', instanceId: 'db3:3306' });
  });

  it('is not restarted while the primary does not answer, nor when fenced', () => {
    const [p, r2, r3] = healthy() as [I, I, I];
    const stopped = ioStopped(r3, 2003, "Can't connect");
    const down = analyze(snapshot([dead(p, 1, 100), r2, stopped]));
    assert.notEqual(down.plan.action, 'restartReplication');
    const fenced = analyze(snapshot([p, r2, stopped], { quarantined: { 'db3:3306': 'old primary' } }));
    assert.notEqual(fenced.plan.action, 'restartReplication');
  });

  it('leaves a missing binlog (1236) and SQL thread errors to a person', () => {
    const [p, r2, r3] = healthy() as [I, I, I];
    const gone = analyze(snapshot([p, r2, ioStopped(r3, 1236, 'Got fatal error 1236 from master when reading data from binary log')]));
    assert.equal(gone.problem?.code, 'ReplicationBroken');
    assert.equal(gone.plan.action, 'none');
    const sql = analyze(snapshot([p, r2, { ...r3, replication: replication('db1', 1, { ioRunning: 'No', lastIoErrno: 2013, lastIoError: 'lost', sqlRunning: false, lastSqlErrno: 1062, lastSqlError: 'Duplicate entry' }) }]));
    assert.equal(sql.problem?.code, 'ReplicationBroken');
    assert.equal(sql.plan.action, 'none');
  });
});
