// GTID comparisons on the text the servers report, for either dialect: MariaDB domain-server-seq
// positions or MySQL uuid:interval sets (told apart by their shape).
import { comparePositions, errantGtids, formatGtid, parseGtidList } from './gtid-set.js';
import { countTransactions, formatMysqlGtidSet, isMysqlGtidText, parseMysqlGtidSet, subtract } from './mysql-gtid-set.js';

function mariadbList(text: string): ReturnType<typeof parseGtidList> {
  try {
    return parseGtidList(text);
  } catch {
    return [];
  }
}

/** GTIDs `instance` holds that `reference` (the primary) never had; MariaDB inputs are gtid_binlog_state values. */
export function errantBetween(instance: string, reference: string, referenceServerId?: number | null): string[] {
  if (isMysqlGtidText(instance) || isMysqlGtidText(reference)) {
    const extra = subtract(parseMysqlGtidSet(instance), parseMysqlGtidSet(reference));
    return extra.size === 0 ? [] : formatMysqlGtidSet(extra).split(',');
  }
  return errantGtids(mariadbList(instance), mariadbList(reference), referenceServerId).map(formatGtid);
}

/** Orders two positions for promotion: 1 when `a` has more, -1 when less, 0 when equal. */
export function compareGtidText(a: string, b: string): number {
  if (isMysqlGtidText(a) || isMysqlGtidText(b)) {
    const sa = parseMysqlGtidSet(a);
    const sb = parseMysqlGtidSet(b);
    const aMinusB = countTransactions(subtract(sa, sb));
    const bMinusA = countTransactions(subtract(sb, sa));
    if (aMinusB > 0 && bMinusA === 0) return 1;
    if (bMinusA > 0 && aMinusB === 0) return -1;
    return Math.sign(aMinusB - bMinusA);
  }
  return comparePositions(mariadbList(a), mariadbList(b));
}
