// Membership changes from Kubernetes: what is added, removed and moved, and that the primary is never dropped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { membershipChanged, planMembership } from '../../../services/db-manager/src/membership.js';

const t = (id: string, host = `${id}.mysql`, port = 3306): { id: string; host: string; port: number } => ({ id, host, port });

describe('membership plan', () => {
  it('adds, removes and moves instances, in the order listed', () => {
    const p = planMembership([t('mysql-0'), t('mysql-1'), t('mysql-2', '10.0.0.3')], [t('mysql-0'), t('mysql-2', '10.0.0.9'), t('mysql-3')], 'mysql-0');
    assert.deepEqual(p.next.map((x) => x.id), ['mysql-0', 'mysql-2', 'mysql-3']);
    assert.deepEqual(p.added, ['mysql-3']);
    assert.deepEqual(p.removed, ['mysql-1']);
    assert.deepEqual(p.moved, ['mysql-2']);
    assert.equal(p.keptPrimary, false);
    assert.ok(membershipChanged(p));
  });

  it('keeps the primary when its pod is no longer listed', () => {
    const p = planMembership([t('mysql-0'), t('mysql-1')], [t('mysql-1')], 'mysql-0');
    assert.deepEqual(p.next.map((x) => x.id), ['mysql-1', 'mysql-0']);
    assert.deepEqual(p.removed, []);
    assert.equal(p.keptPrimary, true);
  });

  it('sees no change when the same pods are listed again', () => {
    const p = planMembership([t('mysql-0'), t('mysql-1')], [t('mysql-0'), t('mysql-1')], null);
    assert.equal(membershipChanged(p), false);
  });
});
