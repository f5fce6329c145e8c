// MariaDB GTID positions: parsing, "has everything", and errant transactions per domain-server pair.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareGtidText, comparePositions, containsPosition, errantBetween, errantGtids, formatGtidList, formatMysqlGtidSet, GtidParseError, parseGtidList, parseMysqlGtidSet, subtractMysqlGtidSet } from '@dramble/db-manager';

describe('MariaDB GTID sets', () => {
  it('parses and formats domain-server-seq lists', () => {
    assert.deepEqual(parseGtidList('0-1-100,1-2-5'), [{ domain: 0, server: 1, seq: 100 }, { domain: 1, server: 2, seq: 5 }]);
    assert.deepEqual(parseGtidList(''), []);
    assert.equal(formatGtidList(parseGtidList('1-2-5, 0-1-100')), '0-1-100,1-2-5');
    assert.throws(() => parseGtidList('3E11FA47-71CA:1-5'), GtidParseError);
  });

  it('compares positions per domain', () => {
    assert.ok(containsPosition(parseGtidList('0-2-150'), parseGtidList('0-1-100')));
    assert.ok(!containsPosition(parseGtidList('0-1-100'), parseGtidList('0-1-100,1-1-3')), 'a missing domain is missing');
    assert.equal(comparePositions(parseGtidList('0-1-101'), parseGtidList('0-1-100')), 1);
    assert.equal(comparePositions(parseGtidList('0-1-100'), parseGtidList('0-1-100')), 0);
    assert.equal(comparePositions(parseGtidList('0-1-99,1-1-1'), parseGtidList('0-1-100')), 0, 'diverged with equal totals');
  });

  it('finds errant GTIDs that a per-domain position would miss', () => {
    // Old primary committed 0-1-101 that nobody received; the new primary went on to 0-2-150.
    assert.deepEqual(errantGtids(parseGtidList('0-1-101'), parseGtidList('0-1-100,0-2-150')), [{ domain: 0, server: 1, seq: 101 }]);
    // A lagging replica is not errant.
    assert.deepEqual(errantGtids(parseGtidList('0-1-90'), parseGtidList('0-1-100,0-2-150')), []);
    // A local write on a replica (its own server id) is.
    assert.deepEqual(errantGtids(parseGtidList('0-1-100,0-3-101'), parseGtidList('0-1-100')), [{ domain: 0, server: 3, seq: 101 }]);
    // A replica probed a moment after its primary can be ahead in the primary's own transactions: not errant.
    assert.deepEqual(errantGtids(parseGtidList('0-1-100,0-2-207'), parseGtidList('0-1-100,0-2-206'), 2), []);
    // But ahead in another server's transactions still is (the returning old primary 1, new primary 2).
    assert.deepEqual(errantGtids(parseGtidList('0-1-101'), parseGtidList('0-1-100,0-2-150'), 2), [{ domain: 0, server: 1, seq: 101 }]);
  });
});

describe('MySQL GTID sets', () => {
  const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
  const B = '4f22ab58-82db-22f2-af44-d91bb0530673';

  it('parses, merges and formats uuid:interval sets', () => {
    assert.equal(formatMysqlGtidSet(parseMysqlGtidSet(`${A}:1-5:6-9:12, ${B}:1`)), `${A}:1-9:12,${B}:1`);
  });

  it('names the transactions an instance has that the primary lacks', () => {
    assert.deepEqual(errantBetween(`${A}:1-100`, `${A}:1-100,${B}:1-50`), []);
    assert.deepEqual(errantBetween(`${A}:1-101`, `${A}:1-100,${B}:1-50`), [`${A}:101`]);
    assert.deepEqual(errantBetween(`${A}:1-100,${B}:1-3`, `${A}:1-100`), [`${B}:1-3`]);
    assert.deepEqual(subtractMysqlGtidSet(parseMysqlGtidSet(`${A}:1-10`), parseMysqlGtidSet(`${A}:3-4`)).get(A), [[1, 2], [5, 10]]);
  });

  it('orders positions for promotion in both dialects', () => {
    assert.equal(compareGtidText(`${A}:1-100`, `${A}:1-90`), 1);
    assert.equal(compareGtidText(`${A}:1-90`, `${A}:1-100`), -1);
    assert.equal(compareGtidText('0-1-100', '0-1-101'), -1);
    assert.deepEqual(errantBetween('0-1-101', '0-1-100,0-2-150'), ['0-1-101']);
  });
});
