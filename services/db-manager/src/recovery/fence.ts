// Fencing: make an instance refuse writes (read_only) and cut the client sessions it has, so an
// old primary cannot keep taking writes that the new primary will never see.
import { run, withConnection, type Connection, type Target } from '../probe/connection.js';
import type { RecoveryContext } from './context.js';

export async function fenceInstance(ctx: RecoveryContext, t: Target, opts: { killConnections: boolean }): Promise<number> {
  return withConnection(t, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    for (const sql of ctx.flavor.fence) await run(c, sql, [], ctx.statementTimeoutMs);
    const killed = opts.killConnections ? await killClientConnections(c, ctx.statementTimeoutMs) : 0;
    ctx.step(`fenced ${t.id} (read-only${opts.killConnections ? `, ${killed} connection(s) killed` : ''})`, { instance: t.id, killed });
    return killed;
  });
}

/** Kills every client session except this one, replication threads and server daemons. */
export async function killClientConnections(c: Connection, timeoutMs: number): Promise<number> {
  const rows = await run<{ ID: number }>(
    c,
    "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND USER NOT IN ('system user', 'event_scheduler') " +
      "AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker')",
    [],
    timeoutMs,
  );
  let killed = 0;
  for (const r of rows) {
    try {
      await run(c, `KILL CONNECTION ${Number(r.ID)}`, [], timeoutMs);
      killed++;
    } catch {
      // it ended on its own meanwhile
    }
  }
  return killed;
}

export async function setReadOnly(ctx: RecoveryContext, t: Target): Promise<void> {
  await withConnection(t, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    for (const sql of ctx.flavor.fence) await run(c, sql, [], ctx.statementTimeoutMs);
  });
  ctx.step(`set ${t.id} read-only`, { instance: t.id });
}

export async function setWritable(ctx: RecoveryContext, t: Target): Promise<void> {
  await withConnection(t, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    for (const sql of ctx.flavor.unfence) await run(c, sql, [], ctx.statementTimeoutMs);
  });
  ctx.step(`set ${t.id} writable`, { instance: t.id });
}

export async function startReplication(ctx: RecoveryContext, t: Target): Promise<void> {
  await withConnection(t, ctx.creds, ctx.connectTimeoutMs, (c) => run(c, ctx.flavor.startReplica, [], ctx.statementTimeoutMs));
  ctx.step(`started replication on ${t.id}`, { instance: t.id });
}
