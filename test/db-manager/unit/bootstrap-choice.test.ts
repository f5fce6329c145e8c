// Bootstrap's choice of primary is a pure function: it must never hand the primary role back to a
// fenced old primary, whatever --primary and the instance order say.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBootstrapPrimary, type BootstrapCandidate } from '../../../services/db-manager/src/analysis/bootstrap-choice.js';

function inst(n: number, o: Partial<BootstrapCandidate> = {}): BootstrapCandidate {
  return { id: `db${n}:3306`, host: `db${n}`, port: 3306, serverId: n, readOnly: false, gtid: '', replication: null, ...o };
}
const replicaOf = (n: number): BootstrapCandidate['replication'] => ({ sourceHost: `db${n}`, sourcePort: 3306, sourceServerId: n });

describe('bootstrap choice of the primary', () => {
  it('on fresh servers takes --primary, else the first instance', () => {
    const fresh = [inst(1), inst(2), inst(3)];
    assert.equal(chooseBootstrapPrimary(fresh, { preferred: 'db2:3306' }).primaryId, 'db2:3306');
    assert.equal(chooseBootstrapPrimary(fresh, {}).primaryId, 'db1:3306');
  });

  it('keeps an existing topology: the instance the others replicate from wins over --primary', () => {
    const live = [inst(1, { readOnly: true, replication: replicaOf(2) }), inst(2, { gtid: '0-2-10' }), inst(3, { readOnly: true, replication: replicaOf(2) })];
    const c = chooseBootstrapPrimary(live, { preferred: 'db1:3306' });
    assert.equal(c.primaryId, 'db2:3306');
  });

  it('after a failover in a two-instance cluster keeps the writable new primary, not the fenced old one named by --primary', () => {
    // db1 was the primary; db2 was promoted (RESET SLAVE ALL) and nobody replicates from it yet.
    const live = [inst(1, { readOnly: true, gtid: '0-1-100' }), inst(2, { gtid: '0-2-140' })];
    const c = chooseBootstrapPrimary(live, { preferred: 'db1:3306' });
    assert.equal(c.primaryId, 'db2:3306');
    assert.match(c.reason, /writable/);
  });

  it('between two writable standalone instances takes the one holding the newest GTIDs', () => {
    const live = [inst(1, { gtid: '0-1-100' }), inst(2, { gtid: '0-2-140' })];
    assert.equal(chooseBootstrapPrimary(live, { preferred: 'db1:3306' }).primaryId, 'db2:3306');
  });

  it('the primary named by the durable state wins over newer GTIDs, --primary and order', () => {
    // A woken old primary with an errant transaction can look newer; the record says who is primary.
    const live = [inst(1, { gtid: '0-1-200' }), inst(2, { gtid: '0-2-140' })];
    const c = chooseBootstrapPrimary(live, { preferred: 'db1:3306', durable: { primaryId: 'db2:3306', quarantined: ['db1:3306'] } });
    assert.equal(c.primaryId, 'db2:3306');
    assert.match(c.reason, /durable/);
  });

  it('never chooses a quarantined instance', () => {
    const live = [inst(1, { gtid: '0-1-200' }), inst(2, { readOnly: true, gtid: '0-2-140' })];
    const c = chooseBootstrapPrimary(live, { durable: { primaryId: null, quarantined: ['db1:3306'] } });
    assert.equal(c.primaryId, 'db2:3306');
  });

  it('chooses nothing while the recorded primary is unreachable and no promotion is visible', () => {
    const live = [inst(1, { readOnly: true, gtid: '0-1-100', replication: replicaOf(2) }), inst(3, { readOnly: true, gtid: '0-1-100', replication: replicaOf(2) })];
    const c = chooseBootstrapPrimary(live, { preferred: 'db1:3306', durable: { primaryId: 'db2:3306', quarantined: [] } });
    assert.equal(c.primaryId, null);
    assert.match(c.reason, /db2:3306.*unreachable/);
  });

  it('takes an unrecorded promotion when the recorded primary is unreachable', () => {
    // The manager died between promoting db3 and writing the record that names it.
    const live = [inst(1, { readOnly: true, replication: replicaOf(2) }), inst(3, { gtid: '0-1-100' })];
    const c = chooseBootstrapPrimary(live, { durable: { primaryId: 'db2:3306', quarantined: [] } });
    assert.equal(c.primaryId, 'db3:3306');
  });

  it('does not take a quarantined old primary that woke up writable while the recorded primary is down', () => {
    const live = [inst(1, { gtid: '0-1-300' })];
    const c = chooseBootstrapPrimary(live, { durable: { primaryId: 'db2:3306', quarantined: ['db1:3306'] } });
    assert.equal(c.primaryId, null);
  });

  it('takes the promotion named by the intent record over the old primary that came back writable', () => {
    // The manager recorded "db2 becomes primary" on db2, promoted it and died; the old primary db1
    // restarted writable, with heartbeats db2 never received, and db3 still replicates from db1.
    const live = [inst(1, { gtid: '0-1-102' }), inst(2, { gtid: '0-1-100' }), inst(3, { readOnly: true, gtid: '0-1-101', replication: replicaOf(1) })];
    const c = chooseBootstrapPrimary(live, { preferred: 'db1:3306', durable: { primaryId: 'db2:3306', quarantined: [] } });
    assert.equal(c.primaryId, 'db2:3306');
  });

  it('keeps the recorded primary when the old primary it replaced restarted writable', () => {
    const live = [inst(1, { gtid: '0-1-102' }), inst(2, { gtid: '0-2-140' })];
    assert.equal(chooseBootstrapPrimary(live, { preferred: 'db1:3306', durable: { primaryId: 'db2:3306', quarantined: [] } }).primaryId, 'db2:3306');
    assert.equal(chooseBootstrapPrimary(live, { durable: { primaryId: 'db1:3306', quarantined: [] } }).primaryId, 'db1:3306');
  });

  it('falls back to the primary others replicate from when the intent named a candidate that was never promoted', () => {
    const live = [inst(1, { gtid: '0-1-102' }), inst(2, { readOnly: true, gtid: '0-1-100', replication: replicaOf(1) })];
    assert.equal(chooseBootstrapPrimary(live, { durable: { primaryId: 'db2:3306', quarantined: [] } }).primaryId, 'db1:3306');
  });

  it('keeps the recorded primary when a freshly added empty server is writable beside it', () => {
    const live = [inst(1, { gtid: '0-1-100' }), inst(4, { gtid: '' })];
    assert.equal(chooseBootstrapPrimary(live, { durable: { primaryId: 'db1:3306', quarantined: [] } }).primaryId, 'db1:3306');
    assert.equal(chooseBootstrapPrimary(live, { preferred: 'db4:3306' }).primaryId, 'db1:3306', 'without a record too: the newest GTIDs win');
  });
});
