// Re-seeding an instance that cannot rejoin (errant transactions): fence it, export its errant
// transactions, replace its data with a consistent copy of the primary's, and attach it as a
// replica from the copy's GTID position. MariaDB: a mariadb-dump --single-transaction clone piped
// into the mariadb client (no binlog on the receiving side, so the copy adds no GTIDs). MySQL 8:
// the clone plugin (CLONE INSTANCE FROM), after which the server restarts and rejoins by GTID.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { errantBetween } from '../gtid/positions.js';
import { quote } from '../flavor/sql.js';
import { errorText, run, withConnection, type Connection, type Target } from '../probe/connection.js';
import { connectArgs, withOptionsFile } from './client-tools.js';
import { changeSourceTo, REPLICA_NET_TIMEOUT_SECONDS, RecoveryError, semiSyncRole, type RecoveryContext } from './context.js';
import { exportErrantTransactions, type ErrantExport } from './errant-export.js';
import { readState } from './read-state.js';

const DUMP = ['/usr/bin/mariadb-dump', '/usr/bin/mysqldump'].find((p) => existsSync(p));
const CLIENT = ['/usr/bin/mariadb', '/usr/bin/mysql'].find((p) => existsSync(p));
const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

export interface ReseedOptions {
  /** Where errant transactions are exported before they are discarded. */
  exportDir: string;
  /** Timeout of the whole copy. */
  copyTimeoutMs: number;
}

export interface ReseedResult {
  instanceId: string;
  primaryId: string;
  errantGtids: string[];
  export: ErrantExport | null;
  /** The primary's GTID position the copy is consistent with; replication starts there. */
  gtid: string;
  databases: string[];
  durationMs: number;
}

export class ReseedError extends RecoveryError {
  constructor(instanceId: string, reason: string) {
    super(`re-seeding ${instanceId} failed: ${reason}`, { instance: instanceId });
    this.name = 'ReseedError';
  }
}

export async function reseed(ctx: RecoveryContext, inst: Target, primary: Target, opts: ReseedOptions): Promise<ReseedResult> {
  const t0 = Date.now();
  if (inst.id === primary.id) throw new ReseedError(inst.id, 'it is the primary');
  const primaryState = await withConnection(primary, ctx.creds, ctx.connectTimeoutMs, (c) => readState(c, ctx.flavor, ctx.statementTimeoutMs));
  return withConnection(inst, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    // Fence first: from here on it must not take a write that the copy would silently drop.
    for (const sql of ctx.flavor.fence) await run(c, sql, [], ctx.statementTimeoutMs);
    const st = await readState(c, ctx.flavor, ctx.statementTimeoutMs);
    const errant = errantBetween(st.gtidBinlogState, primaryState.gtidBinlogState, primaryState.serverId);
    let exported: ErrantExport | null = null;
    if (errant.length > 0) {
      // No export, no re-seed: a failure here stops before anything is discarded.
      exported = await exportErrantTransactions(ctx, c, inst, errant, primaryState.gtidBinlogState, opts.exportDir).catch((err: unknown) => {
        throw new ReseedError(inst.id, `could not export its errant transactions ${errant.join(',')}: ${errorText(err)}; nothing was changed`);
      });
      ctx.step(`exported ${exported.transactions} errant transaction(s) of ${inst.id} (${errant.join(',')}) to ${exported.path}`, { instance: inst.id, errantGtids: errant, file: exported.path, truncated: exported.truncated });
    }
    if (ctx.flavor.name === 'mysql') {
      await cloneMysql(ctx, c, inst, primary);
      return { instanceId: inst.id, primaryId: primary.id, errantGtids: errant, export: exported, gtid: primaryState.gtidBinlogPos, databases: [], durationMs: Date.now() - t0 };
    }
    const { gtid, databases } = await copyMariadb(ctx, c, inst, primary, opts);
    ctx.assertLeader?.();
    await run(c, 'SET GLOBAL gtid_slave_pos = ?', [gtid], ctx.statementTimeoutMs);
    for (const sql of semiSyncRole(ctx, 'replica')) await run(c, sql, [], ctx.statementTimeoutMs);
    // Set before the IO thread connects, which is when it reads it (a restarted old primary has the 60 s default).
    await run(c, ctx.flavor.replicaNetTimeoutSql(REPLICA_NET_TIMEOUT_SECONDS), [], ctx.statementTimeoutMs);
    await run(c, changeSourceTo(ctx, primary, 'slave_pos'), [], ctx.statementTimeoutMs);
    await run(c, ctx.flavor.startReplica, [], ctx.statementTimeoutMs);
    ctx.step(`re-seeded ${inst.id} from ${primary.id} (${databases.length} database(s), consistent at ${gtid || '(empty)'}) and attached it as a replica`, { instance: inst.id, primary: primary.id, gtid });
    return { instanceId: inst.id, primaryId: primary.id, errantGtids: errant, export: exported, gtid, databases, durationMs: Date.now() - t0 };
  });
}

/** Replaces the instance's data with a dump of the primary's; returns the dump's GTID position. */
async function copyMariadb(ctx: RecoveryContext, c: Connection, inst: Target, primary: Target, opts: ReseedOptions): Promise<{ gtid: string; databases: string[] }> {
  if (!DUMP || !CLIENT) throw new ReseedError(inst.id, 'mariadb-dump and the mariadb client must be installed');
  const placeholders = SYSTEM_SCHEMAS.map(() => '?').join(', ');
  const databases = await withConnection(primary, ctx.creds, ctx.connectTimeoutMs, async (p) =>
    (await run(p, `SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (${placeholders}) ORDER BY 1`, SYSTEM_SCHEMAS, ctx.statementTimeoutMs)).map((r) => String(r['s'])),
  );
  await run(c, ctx.flavor.stopReplica, [], ctx.statementTimeoutMs);
  await run(c, ctx.flavor.resetReplicaAll, [], ctx.statementTimeoutMs);
  ctx.assertLeader?.();
  // Its own binlog held the errant transactions (exported above); a replica starts from an empty one.
  await run(c, 'RESET MASTER', [], ctx.statementTimeoutMs);
  await run(c, 'SET SESSION sql_log_bin = 0', [], ctx.statementTimeoutMs);
  const extra = (await run(c, `SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (${placeholders})`, SYSTEM_SCHEMAS, ctx.statementTimeoutMs)).map((r) => String(r['s'])).filter((d) => !databases.includes(d));
  for (const d of extra) {
    ctx.assertLeader?.();
    await run(c, `DROP DATABASE ${c.escapeId(d)}`, [], ctx.statementTimeoutMs);
  }
  if (databases.length === 0) {
    const [row] = await withConnection(primary, ctx.creds, ctx.connectTimeoutMs, (p) => run(p, 'SELECT @@gtid_binlog_pos AS g', [], ctx.statementTimeoutMs));
    return { gtid: String(row?.['g'] ?? ''), databases };
  }
  ctx.step(`copying ${databases.join(', ')} from ${primary.id} to ${inst.id} (mariadb-dump --single-transaction)`, { instance: inst.id, primary: primary.id });
  ctx.assertLeader?.();
  const gtid = await withOptionsFile(ctx.creds, (optsFile) => pipeDump(optsFile, inst, primary, databases, opts.copyTimeoutMs));
  return { gtid, databases };
}

/** mariadb-dump on the primary | mariadb on the instance, with binlogging off for the load. */
function pipeDump(optsFile: string, inst: Target, primary: Target, databases: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const dumpArgs = [...connectArgs(optsFile, primary), '--single-transaction', '--gtid', '--master-data=2', '--routines', '--events', '--triggers', '--add-drop-database', '--databases', ...databases];
    const loadArgs = [...connectArgs(optsFile, inst), '--init-command=SET SESSION sql_log_bin=0', '--binary-mode'];
    const dump = spawn(DUMP!, dumpArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    const load = spawn(CLIENT!, loadArgs, { stdio: ['pipe', 'ignore', 'pipe'] });
    let gtid: string | null = null;
    let head = '';
    const errors: string[] = [];
    dump.stderr.on('data', (d: Buffer) => errors.push(`mariadb-dump: ${d.toString().trim()}`));
    load.stderr.on('data', (d: Buffer) => errors.push(`mariadb: ${d.toString().trim()}`));
    dump.stdout.on('data', (d: Buffer) => {
      // --master-data=2 --gtid writes the snapshot's position as a comment near the top.
      if (gtid === null && head.length < 1 << 20) {
        head += d.toString('latin1');
        const m = /gtid_slave_pos\s*=\s*'([^']*)'/.exec(head);
        if (m) gtid = m[1]!;
      }
    });
    dump.stdout.pipe(load.stdin);
    load.stdin.on('error', () => undefined); // a failed load closes its stdin; its exit code reports it
    const timer = setTimeout(() => {
      dump.kill('SIGKILL');
      load.kill('SIGKILL');
      errors.push(`copy timed out after ${timeoutMs} ms`);
    }, timeoutMs);
    const exits = [dump, load].map((p) => new Promise<number | null>((r) => p.on('close', (code) => r(code))));
    void Promise.all(exits).then(([dc, lc]) => {
      clearTimeout(timer);
      if (dc !== 0 || lc !== 0) return reject(new ReseedError(inst.id, `copy failed (mariadb-dump exit ${dc}, mariadb exit ${lc}): ${errors.join('; ').slice(0, 2000)}`));
      if (gtid === null) return reject(new ReseedError(inst.id, 'the dump named no GTID position (gtid_slave_pos)'));
      resolve(gtid);
    });
  });
}

/**
 * MySQL 8 clone plugin: the recipient replaces its data with the donor's and restarts (needs a
 * supervisor: Kubernetes, systemd). The replication user needs BACKUP_ADMIN on the donor. Not run in
 * these tests (the servers here are MariaDB).
 */
async function cloneMysql(ctx: RecoveryContext, c: Connection, inst: Target, primary: Target): Promise<void> {
  const donor = `${primary.host}:${primary.port}`;
  for (const sql of mysqlCloneStatements(ctx, primary)) {
    try {
      await run(c, sql, [], 30 * 60_000);
    } catch (err) {
      // CLONE INSTANCE ends with the server restarting: the connection drops (2013) when it worked.
      if ((err as { errno?: number }).errno === 2013 && /^CLONE/i.test(sql)) break;
      if (/^INSTALL PLUGIN/i.test(sql) && /already/i.test(errorText(err))) continue;
      throw new ReseedError(inst.id, `${sql.split(' ').slice(0, 3).join(' ')} failed: ${errorText(err)}`);
    }
  }
  ctx.step(`cloned ${inst.id} from ${donor}; it restarts and rejoins by GTID auto-position`, { instance: inst.id, primary: primary.id });
}

export function mysqlCloneStatements(ctx: RecoveryContext, primary: Target): string[] {
  return [
    "INSTALL PLUGIN clone SONAME 'mysql_clone.so'",
    `SET GLOBAL clone_valid_donor_list = ${quote(`${primary.host}:${primary.port}`)}`,
    `CLONE INSTANCE FROM ${quote(ctx.replication.user)}@${quote(primary.host)}:${primary.port} IDENTIFIED BY ${quote(ctx.replication.password)}`,
  ];
}
