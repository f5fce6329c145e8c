// What goes into the errant-transaction export is decided by pure helpers: which binlog GTIDs are
// errant against the primary, and how a transaction's events are written out for a person.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errantMatcher, formatExport, gtidOfEvent } from '../../../services/db-manager/src/recovery/errant-export.js';

describe('the errant-transaction export', () => {
  it('treats as errant only GTIDs of a flagged domain-server pair beyond what the primary has', () => {
    // The old primary (server 1) committed 0-1-101 and 0-1-102 that nobody received; the new primary went on as server 2.
    const isErrant = errantMatcher(['0-1-102'], '0-1-100,0-2-140');
    assert.equal(isErrant('0-1-101'), true);
    assert.equal(isErrant('0-1-102'), true);
    assert.equal(isErrant('0-1-100'), false, 'the primary has it');
    assert.equal(isErrant('0-2-141'), false, 'not a flagged pair');
    assert.equal(isErrant('garbage'), false);
  });

  it('handles MySQL GTID sets', () => {
    const u = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const isErrant = errantMatcher([`${u}:6`], `${u}:1-5`);
    assert.equal(isErrant(`${u}:6`), true);
    assert.equal(isErrant(`${u}:5`), false);
  });

  it('reads the GTID from both dialects\' GTID events and from nothing else', () => {
    assert.equal(gtidOfEvent('Gtid', 'BEGIN GTID 0-1-7628'), '0-1-7628');
    assert.equal(gtidOfEvent('Gtid', 'GTID 0-1-9'), '0-1-9');
    assert.equal(gtidOfEvent('Gtid', "SET @@SESSION.GTID_NEXT= 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:12'"), 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:12');
    assert.equal(gtidOfEvent('Query', 'BEGIN GTID 0-1-1'), null);
  });

  it('writes statements as SQL and everything else as comments, naming each GTID', () => {
    const text = formatExport('db1:3306', ['0-1-7628'], [
      { gtid: '0-1-7628', file: 'mysql-bin.000002', startPos: 400, endPos: 900, events: [
        { type: 'Gtid', info: 'BEGIN GTID 0-1-7628' },
        { type: 'Annotate_rows', info: "INSERT INTO shop.orders VALUES (2, 'errant')" },
        { type: 'Table_map', info: 'table_id: 25 (shop.orders)' },
        { type: 'Write_rows_v1', info: 'table_id: 25 flags: STMT_END_F' },
        { type: 'Xid', info: 'COMMIT /* xid=68 */' },
      ], decoded: '### INSERT INTO `shop`.`orders`\n### SET\n###   @1=2' },
    ], false);
    assert.match(text, /^-- Errant transactions of db1:3306/);
    assert.match(text, /-- GTID 0-1-7628 \(mysql-bin\.000002, positions 400-900\)/);
    assert.match(text, /^INSERT INTO shop\.orders VALUES \(2, 'errant'\);$/m);
    assert.match(text, /^-- Write_rows_v1: /m);
    assert.match(text, /^-- ### INSERT INTO `shop`\.`orders`$/m);
    assert.doesNotMatch(text, /^BEGIN/m);
  });
});
