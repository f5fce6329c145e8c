// Bootstrap of fresh servers: choose the primary (analysis/bootstrap-choice.ts: the durable state's
// primary, an existing topology, a writable instance with the newest GTIDs, then the configured one), create the replication user and the manager's schema on it, attach every
// other instance by GTID, read_only on replicas, semi-sync when asked. Every step first checks
// whether it is needed, so a second run changes nothing (and writes no GTID).
import { chooseBootstrapPrimary, type DurableHint } from '../analysis/bootstrap-choice.js';
import { errantBetween } from '../gtid/positions.js';
import { CREATE_META_SQL, META_SCHEMA } from '../probe/heartbeat.js';
import { errorText, openConnection, run, type Connection, type Target } from '../probe/connection.js';
import { changeSourceTo, REPLICA_NET_TIMEOUT_SECONDS, RecoveryError, type RecoveryContext } from './context.js';
import { readState, type LiveState } from './read-state.js';

export interface BootstrapOptions {
  /** Preferred primary id (host:port); default the first instance. */
  preferredPrimary?: string;
  semiSync: boolean;
  /** The durable manager state, when one was found: its primary wins, its quarantined instances are never chosen. */
  durable?: DurableHint | null;
}

export interface BootstrapResult {
  /** Null when no instance may be chosen (the recorded primary is unreachable): nothing was changed. */
  primaryId: string | null;
  /** Why this primary (or none) was chosen. */
  reason: string;
  /** What was changed, one line each; empty when everything was already in place. */
  changes: string[];
  skipped: Array<{ id: string; reason: string }>;
}

interface Live {
  t: Target;
  c: Connection;
  st: LiveState;
}

export async function bootstrap(ctx: RecoveryContext, targets: Target[], opts: BootstrapOptions): Promise<BootstrapResult> {
  const changes: string[] = [];
  const skipped: Array<{ id: string; reason: string }> = [];
  const live: Live[] = [];
  await Promise.all(
    targets.map(async (t) => {
      try {
        const c = await openConnection(t, ctx.creds, ctx.connectTimeoutMs);
        live.push({ t, c, st: await readState(c, ctx.flavor, ctx.statementTimeoutMs) });
      } catch (err) {
        skipped.push({ id: t.id, reason: `unreachable: ${errorText(err)}` });
      }
    }),
  );
  live.sort((a, b) => targets.indexOf(a.t) - targets.indexOf(b.t));
  try {
    if (live.length === 0) throw new RecoveryError('bootstrap found no reachable instance', { instances: targets.map((t) => t.id) });
    const choice = chooseBootstrapPrimary(
      live.map((l) => ({ id: l.t.id, host: l.t.host, port: l.t.port, serverId: l.st.serverId, readOnly: l.st.readOnly, gtid: l.st.gtidBinlogPos, replication: l.st.replication })),
      { preferred: opts.preferredPrimary, durable: opts.durable ?? null, allIds: targets.map((t) => t.id) },
    );
    ctx.step(`bootstrap: primary ${choice.primaryId ?? '(none)'}: ${choice.reason}`, { primary: choice.primaryId });
    const primary = live.find((l) => l.t.id === choice.primaryId);
    if (!primary) return { primaryId: null, reason: choice.reason, changes, skipped };
    const change = async (l: Live, what: string, sqls: string[]): Promise<void> => {
      for (const sql of sqls) await run(l.c, sql, [], ctx.statementTimeoutMs);
      changes.push(`${l.t.id}: ${what}`);
      ctx.step(`bootstrap: ${l.t.id}: ${what}`, { instance: l.t.id });
    };

    // Semi-sync: replica side everywhere, source side on the primary only.
    // The primary waits for acks only when another instance is there to give them: with semi-sync's
    // never-give-up timeout, a lone primary that waited would hang its first commit (the manager's
    // semi-sync rule turns waiting on once a healthy replica appears).
    if (opts.semiSync) {
      await Promise.all(live.map((l) => ensureSemiSync(ctx, l, l === primary && live.length > 1, change)));
    }

    // The replication user on every instance, outside the binlog: whichever instance is promoted
    // later has it, and no GTID is written before the replicas are attached.
    for (const l of live) {
      const [user] = await run(l.c, 'SELECT COUNT(*) AS n FROM mysql.user WHERE user = ? AND host = ?', [ctx.replication.user, '%'], ctx.statementTimeoutMs);
      if (Number(user?.['n']) === 0) {
        await change(l, `created replication user ${ctx.replication.user}`, [
          'SET SESSION sql_log_bin=0',
          `CREATE USER '${ctx.replication.user.replace(/'/g, "''")}'@'%' IDENTIFIED BY '${ctx.replication.password.replace(/'/g, "''")}'`,
          ctx.flavor.replicationGrant(ctx.replication.user),
          'SET SESSION sql_log_bin=1',
        ]);
      }
    }
    if (primary.st.replication === null && primary.st.readOnly) await change(primary, 'read_only=OFF (primary)', ctx.flavor.unfence);

    for (const l of live) {
      if (l === primary) continue;
      const [net] = await run(l.c, `SELECT @@${ctx.flavor.replicaNetTimeoutVar} AS v`, [], ctx.statementTimeoutMs);
      if (Number(net?.['v']) !== REPLICA_NET_TIMEOUT_SECONDS) {
        await change(l, `${ctx.flavor.replicaNetTimeoutVar}=${REPLICA_NET_TIMEOUT_SECONDS}`, [ctx.flavor.replicaNetTimeoutSql(REPLICA_NET_TIMEOUT_SECONDS)]);
      }
      if (!l.st.readOnly) await change(l, 'read_only=ON (replica)', ctx.flavor.fence);
      const r = l.st.replication;
      const fromPrimary = r !== null && ((r.sourceHost === primary.t.host && r.sourcePort === primary.t.port) || r.sourceServerId === primary.st.serverId);
      if (r === null) {
        const errant = errantBetween(l.st.gtidBinlogState, primary.st.gtidBinlogState, primary.st.serverId);
        if (errant.length > 0) {
          skipped.push({ id: l.t.id, reason: `errant GTIDs ${errant.join(',')}: not attached` });
          ctx.step(`bootstrap: ${l.t.id} has errant GTIDs ${errant.join(',')}; left fenced`, { instance: l.t.id, errantGtids: errant });
          continue;
        }
        await change(l, `replicates from ${primary.t.id} by GTID`, [changeSourceTo(ctx, primary.t, 'current_pos'), ctx.flavor.startReplica]);
      } else if (!fromPrimary) {
        skipped.push({ id: l.t.id, reason: `replicates from ${r.sourceHost}:${r.sourcePort}, left alone` });
      } else if (r.ioRunning === 'No' && r.sqlRunning === false && r.lastIoErrno === 0 && r.lastSqlErrno === 0) {
        await change(l, 'started replication', [ctx.flavor.startReplica]);
      }
    }
    // Every other instance was left out (errant GTIDs, another source): nobody will acknowledge.
    if (opts.semiSync && live.length > 1 && live.every((l) => l === primary || skipped.some((s) => s.id === l.t.id))) {
      await change(primary, 'semi-sync source side off (no replica attached to acknowledge)', [ctx.flavor.semiSyncSource(false)]);
    }
    // The manager's schema last: with semi-sync on, this commit waits for a replica's ack.
    const [meta] = await run(primary.c, 'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [META_SCHEMA, 'heartbeat'], ctx.statementTimeoutMs);
    if (Number(meta?.['n']) === 0) await change(primary, `created ${META_SCHEMA}.heartbeat`, CREATE_META_SQL);
    return { primaryId: primary.t.id, reason: choice.reason, changes, skipped };
  } finally {
    for (const l of live) l.c.destroy();
  }
}

async function ensureSemiSync(ctx: RecoveryContext, l: Live, sourceWaits: boolean, change: (l: Live, what: string, sqls: string[]) => Promise<void>): Promise<void> {
  const v = ctx.flavor.semiSyncVars;
  let rows: Array<Record<string, unknown>>;
  try {
    rows = await run(l.c, `SELECT @@${v.source} AS s, @@${v.replica} AS r, @@${v.waitPoint} AS w`, [], ctx.statementTimeoutMs);
  } catch {
    rows = [];
  }
  const row = rows[0];
  if (row && Number(row['s']) !== (sourceWaits ? 1 : 0)) {
    await change(l, `semi-sync source side ${sourceWaits ? 'on (primary)' : 'off'}`, [ctx.flavor.semiSyncSource(sourceWaits)]);
  }
  const ok = row && Number(row['r']) === 1 && String(row['w']).toUpperCase() === 'AFTER_SYNC';
  if (ok) return;
  const sqls = ctx.flavor.semiSyncEnable().filter((s) => !(row && /INSTALL PLUGIN/i.test(s)));
  await change(l, 'semi-sync enabled (replica side, AFTER_SYNC)', sqls);
  if (!row) await change(l, `semi-sync source side ${sourceWaits ? 'on' : 'off'}`, [ctx.flavor.semiSyncSource(sourceWaits)]);
  // A running IO thread picks up the replica side only when it reconnects.
  if (l.st.replication && l.st.replication.ioRunning !== 'No') {
    await run(l.c, ctx.flavor.stopIoThread, [], ctx.statementTimeoutMs);
    await run(l.c, ctx.flavor.startReplica, [], ctx.statementTimeoutMs);
  }
}
