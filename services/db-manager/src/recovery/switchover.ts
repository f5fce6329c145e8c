// Planned switchover: zero loss by construction. The old primary stops taking writes first, the
// target waits until it has the old primary's whole GTID position, and only then is promoted;
// on timeout the old primary is made writable again and nothing changed.
import type { TopologySnapshot } from '../analysis/snapshot.js';
import { errorText, openConnection, run, withConnection } from '../probe/connection.js';
import { changeSourceTo, RecoveryError, semiSyncRole, type RecoveryContext } from './context.js';
import { killClientConnections } from './fence.js';
import { repoint } from './failover.js';
import { readState, waitForGtid } from './read-state.js';

export class SwitchoverTimeoutError extends RecoveryError {
  constructor(target: string, position: string, timeoutMs: number) {
    super(`${target} did not reach ${position} within ${timeoutMs} ms; switchover rolled back, the old primary is writable again`, { target, position });
    this.name = 'SwitchoverTimeoutError';
  }
}

export interface SwitchoverResult {
  oldPrimaryId: string;
  newPrimaryId: string;
  gtid: string;
  /** From read_only on the old primary to writable on the new one. */
  readOnlyMs: number;
  durationMs: number;
}

export interface SwitchoverHooks {
  /** Called once the target is writable, before the old primary is re-attached: publish the topology now. */
  promoted(newPrimaryId: string): Promise<void>;
}

export async function switchover(ctx: RecoveryContext, s: TopologySnapshot, targetId: string, opts: { timeoutMs: number }, hooks: SwitchoverHooks): Promise<SwitchoverResult> {
  const t0 = Date.now();
  const old = s.instances.find((i) => i.id === s.primaryId);
  const target = s.instances.find((i) => i.id === targetId);
  if (!old || !target) throw new RecoveryError('switchover needs a reachable primary and target');
  ctx.step(`switchover from ${old.id} to ${target.id} started`, { from: old.id, to: target.id });

  const oldConn = await openConnection(old, ctx.creds, ctx.connectTimeoutMs);
  let readOnlyAt = 0;
  let position = '';
  try {
    for (const sql of ctx.flavor.fence) await run(oldConn, sql, [], ctx.statementTimeoutMs);
    readOnlyAt = Date.now();
    const killed = await killClientConnections(oldConn, ctx.statementTimeoutMs);
    position = (await readState(oldConn, ctx.flavor, ctx.statementTimeoutMs)).gtidBinlogPos;
    ctx.step(`${old.id} is read-only at ${position} (${killed} connection(s) killed)`, { instance: old.id, gtid: position });

    await withConnection(target, ctx.creds, ctx.connectTimeoutMs, async (c) => {
      const caughtUp = await waitForGtid(c, ctx.flavor, position, opts.timeoutMs);
      if (!caughtUp) throw new SwitchoverTimeoutError(target.id, position, opts.timeoutMs);
      await run(c, ctx.flavor.stopReplica, [], ctx.statementTimeoutMs);
      await run(c, ctx.flavor.resetReplicaAll, [], ctx.statementTimeoutMs);
      for (const sql of [...semiSyncRole(ctx, 'primary'), ...ctx.flavor.unfence]) await run(c, sql, [], ctx.statementTimeoutMs);
    });
  } catch (err) {
    // Roll back: the old primary takes writes again, the target stays a replica.
    for (const sql of ctx.flavor.unfence) await run(oldConn, sql, [], ctx.statementTimeoutMs).catch(() => undefined);
    oldConn.destroy();
    ctx.step(`switchover to ${target.id} aborted and rolled back: ${errorText(err)}`, { from: old.id, to: target.id });
    throw err;
  }
  const readOnlyMs = Date.now() - readOnlyAt;
  ctx.step(`promoted ${target.id} to primary at ${position} (writes refused for ${readOnlyMs} ms)`, { instance: target.id, gtid: position, readOnlyMs });
  await hooks.promoted(target.id);

  try {
    for (const sql of semiSyncRole(ctx, 'replica')) await run(oldConn, sql, [], ctx.statementTimeoutMs);
    await run(oldConn, changeSourceTo(ctx, target, 'current_pos'), [], ctx.statementTimeoutMs);
    await run(oldConn, ctx.flavor.startReplica, [], ctx.statementTimeoutMs);
    ctx.step(`${old.id} now replicates from ${target.id}`, { instance: old.id, source: target.id });
  } catch (err) {
    ctx.step(`could not attach ${old.id} to ${target.id}: ${errorText(err)}`, { instance: old.id });
  } finally {
    oldConn.destroy();
  }
  const rest = s.instances.filter((i) => i.id !== old.id && i.id !== target.id && i.reachable && i.replication !== null);
  await Promise.all(rest.map((r) => repoint(ctx, r, target).catch((err: unknown) => ctx.step(`could not repoint ${r.id}: ${errorText(err)}`, { instance: r.id }))));
  return { oldPrimaryId: old.id, newPrimaryId: target.id, gtid: position, readOnlyMs, durationMs: Date.now() - t0 };
}
