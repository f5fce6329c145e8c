// Fencing: make an instance refuse writes (read_only) and cut the client sessions it has, so an
// old primary cannot keep taking writes that the new primary will never see.
import { openConnection, run, withConnection, type Connection, type Target } from '../probe/connection.js';
import type { RecoveryContext } from './context.js';
import { readState, type LiveState } from './read-state.js';

export interface FenceResult {
  killed: number;
  /** The instance's state once fenced (its GTIDs, to name the errant ones). */
  state: LiveState;
}

const KILL_ROUND_MS = 100;

/**
 * read_only (super_read_only on MySQL) first, then nothing else. Setting it waits for every commit in
 * flight, and on a woken old primary those commits wait for a semi-sync ack that no replica will ever
 * send: so with killConnections the client sessions are killed from a second connection, round after
 * round, while the first one sets read_only. A killed session's client gets an error, never an OK.
 */
export async function fenceInstance(ctx: RecoveryContext, t: Target, opts: { killConnections: boolean }): Promise<FenceResult> {
  return withConnection(t, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    let killed = 0;
    if (!opts.killConnections) {
      for (const sql of ctx.flavor.fence) await run(c, sql, [], ctx.statementTimeoutMs);
    } else {
      const [me] = await run<{ id: number }>(c, 'SELECT CONNECTION_ID() AS id', [], ctx.statementTimeoutMs);
      const killer = await openConnection(t, ctx.creds, ctx.connectTimeoutMs);
      try {
        let done = false;
        const fencing = (async () => {
          for (const sql of ctx.flavor.fence) await run(c, sql, [], ctx.statementTimeoutMs);
        })().finally(() => (done = true));
        const settled = fencing.then(() => undefined, () => undefined);
        while (!done) {
          killed += await killClientConnections(killer, ctx.statementTimeoutMs, [Number(me?.id)]);
          await Promise.race([settled, new Promise((r) => setTimeout(r, KILL_ROUND_MS))]);
        }
        await fencing;
        // Sessions that connected before read_only took hold may still hold open transactions.
        killed += await killClientConnections(killer, ctx.statementTimeoutMs, [Number(me?.id)]);
      } finally {
        killer.destroy();
      }
    }
    const state = await readState(c, ctx.flavor, ctx.statementTimeoutMs);
    ctx.step(`fenced ${t.id} (read-only${opts.killConnections ? `, ${killed} connection(s) killed` : ''})`, { instance: t.id, killed });
    return { killed, state };
  });
}

/** Kills every client session except this one (and `spare`), replication threads and server daemons. */
export async function killClientConnections(c: Connection, timeoutMs: number, spare: number[] = []): Promise<number> {
  const rows = await run<{ ID: number }>(
    c,
    "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND USER NOT IN ('system user', 'event_scheduler') " +
      "AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker')",
    [],
    timeoutMs,
  );
  let killed = 0;
  for (const r of rows) {
    if (spare.includes(Number(r.ID))) continue;
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
