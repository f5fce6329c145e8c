// Before an instance with errant transactions is re-seeded (which discards them), its errant
// transactions are written to a file: the GTIDs, and each transaction's events from its binary log
// (SHOW BINLOG EVENTS over the manager's connection; row events also decoded by mariadb-binlog when
// it is installed). Nothing is discarded without a copy a person can read and replay.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGtidList } from '../gtid/gtid-set.js';
import { isMysqlGtidText, parseMysqlGtidSet, subtract } from '../gtid/mysql-gtid-set.js';
import { run, type Connection } from '../probe/connection.js';
import { decodeRowEvents } from './binlog-decode.js';
import type { RecoveryContext } from './context.js';

/** Stop scanning after this many binlog events: a Pi's SD card should not be read end to end. */
const MAX_EVENTS_SCANNED = 500_000;
const PAGE = 2000;

export interface ErrantTransaction {
  gtid: string;
  file: string;
  startPos: number;
  endPos: number;
  events: Array<{ type: string; info: string }>;
  /** mariadb-binlog --verbose output for the transaction's row events, when it could be run. */
  decoded?: string;
}

export interface ErrantExport {
  path: string;
  gtids: string[];
  transactions: number;
  /** True when the scan stopped at MAX_EVENTS_SCANNED before finding every errant GTID. */
  truncated: boolean;
}

/**
 * A predicate telling which GTIDs in the instance's binlog are errant: MariaDB ones of a listed
 * domain-server pair with a sequence number the primary never reached; MySQL ones outside the primary's set.
 */
export function errantMatcher(errant: string[], primaryBinlogState: string): (gtid: string) => boolean {
  if (errant.some(isMysqlGtidText) || isMysqlGtidText(primaryBinlogState)) {
    const primary = parseMysqlGtidSet(primaryBinlogState);
    return (g) => /^[0-9a-f-]{36}:\d+$/i.test(g) && subtract(parseMysqlGtidSet(g), primary).size > 0;
  }
  const pairs = new Set(errant.map((e) => /^(\d+)-(\d+)-/.exec(e)).filter((m) => m !== null).map((m) => `${m[1]}-${m[2]}`));
  const ref = new Map<string, number>();
  for (const g of safeList(primaryBinlogState)) ref.set(`${g.domain}-${g.server}`, Math.max(ref.get(`${g.domain}-${g.server}`) ?? 0, g.seq));
  return (gtid) => {
    const [g] = safeList(gtid);
    if (!g) return false;
    const pair = `${g.domain}-${g.server}`;
    return pairs.has(pair) && g.seq > (ref.get(pair) ?? 0);
  };
}

function safeList(text: string): ReturnType<typeof parseGtidList> {
  try {
    return parseGtidList(text);
  } catch {
    return [];
  }
}

/** The GTID a binlog event starts, or null: MariaDB "BEGIN GTID 0-1-7" / "GTID 0-1-7", MySQL "SET @@SESSION.GTID_NEXT= 'uuid:7'". */
export function gtidOfEvent(type: string, info: string): string | null {
  if (!/^gtid$/i.test(type)) return null;
  const maria = /GTID\s+(\d+-\d+-\d+)/.exec(info);
  if (maria) return maria[1]!;
  const my = /GTID_NEXT\s*=\s*'([^']+)'/i.exec(info);
  return my ? my[1]! : null;
}

/** Reads the errant transactions from the instance's binlogs, newest file first. */
export async function readErrantTransactions(c: Connection, errant: string[], primaryBinlogState: string, timeoutMs: number): Promise<{ transactions: ErrantTransaction[]; truncated: boolean }> {
  const isErrant = errantMatcher(errant, primaryBinlogState);
  const files = (await run(c, 'SHOW BINARY LOGS', [], timeoutMs)).map((r) => String(r['Log_name']));
  const found: ErrantTransaction[] = [];
  let scanned = 0;
  let truncated = false;
  for (const file of files.reverse()) {
    const inFile: ErrantTransaction[] = [];
    let current: ErrantTransaction | null = null;
    let sawOlder = false;
    for (let offset = 0; ; offset += PAGE) {
      // LIMIT takes no placeholders in SHOW; the numbers are ours, the file name is quoted as a literal.
      const rows = await run(c, `SHOW BINLOG EVENTS IN ${c.escape(file)} LIMIT ${offset}, ${PAGE}`, [], timeoutMs);
      for (const r of rows) {
        const type = String(r['Event_type']);
        const info = String(r['Info'] ?? '');
        const pos = Number(r['Pos']);
        const end = Number(r['End_log_pos']);
        const gtid = gtidOfEvent(type, info);
        if (gtid !== null) {
          current = isErrant(gtid) ? { gtid, file, startPos: pos, endPos: end, events: [] } : null;
          if (current) inFile.push(current);
          else sawOlder = true;
        }
        if (current) {
          current.events.push({ type, info });
          current.endPos = end;
        }
      }
      scanned += rows.length;
      if (rows.length < PAGE) break;
      if (scanned >= MAX_EVENTS_SCANNED) {
        truncated = true;
        break;
      }
    }
    found.unshift(...inFile);
    // Errant transactions come after everything the primary has: once a file holds older ones, stop.
    if (sawOlder || truncated) break;
  }
  return { transactions: found, truncated };
}

/** Writes the export file and returns what it holds. */
export async function exportErrantTransactions(ctx: RecoveryContext, c: Connection, inst: { id: string; host: string; port: number }, errant: string[], primaryBinlogState: string, dir: string): Promise<ErrantExport> {
  const { transactions, truncated } = await readErrantTransactions(c, errant, primaryBinlogState, ctx.statementTimeoutMs);
  for (const t of transactions) {
    if (!t.events.some((e) => /_rows/i.test(e.type))) continue;
    const decoded = await decodeRowEvents(ctx, inst, t.file, t.startPos, t.endPos);
    if (decoded) t.decoded = decoded;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(dir, `errant-${inst.id.replace(/[^\w.-]/g, '_')}-${stamp}.sql`);
  writeFileSync(path, formatExport(inst.id, errant, transactions, truncated), { mode: 0o600 });
  return { path, gtids: transactions.map((t) => t.gtid), transactions: transactions.length, truncated };
}

/** The file: SQL comments around each transaction's statements, so a person can read and replay it. */
export function formatExport(instanceId: string, errant: string[], transactions: ErrantTransaction[], truncated: boolean): string {
  const out = [
    `-- Errant transactions of ${instanceId}, exported ${new Date().toISOString()} by dramble-db-manager before re-seeding it.`,
    `-- Errant GTIDs (newest per domain-server): ${errant.join(', ')}`,
    `-- Transactions found in its binary log: ${transactions.length}${truncated ? ' (scan stopped early: the binlog was too long; older errant transactions may exist)' : ''}`,
    '-- These were never on the primary. Review before replaying any of them there.',
    '',
  ];
  for (const t of transactions) {
    out.push(`-- GTID ${t.gtid} (${t.file}, positions ${t.startPos}-${t.endPos})`);
    for (const e of t.events) {
      if (/^gtid$/i.test(e.type)) continue;
      // Query events carry statements; Annotate_rows the client's statement behind row events (the
      // decoded rows below give the exact values it wrote).
      if (/^(query|annotate_rows)$/i.test(e.type) && !/^(BEGIN|COMMIT)\b/i.test(e.info.trim())) out.push(`${e.info.replace(/[\s;]+$/, '')};`);
      else if (/^query$/i.test(e.type)) continue;
      else out.push(`-- ${e.type}: ${e.info.replace(/\n/g, ' ')}`);
    }
    if (t.decoded) out.push('-- row events as decoded by mariadb-binlog --verbose:', ...t.decoded.split('\n').map((l) => (l.startsWith('--') ? l : `-- ${l}`)));
    out.push('');
  }
  return out.join('\n');
}
