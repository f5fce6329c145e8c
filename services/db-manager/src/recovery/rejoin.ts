// Re-attaching an instance (a returning old primary, a replica of the wrong source) to the current
// primary by GTID, but only when it holds nothing the primary lacks: errant transactions would
// either break replication or silently diverge the data, so such an instance stays fenced.
import { errantBetween } from '../gtid/positions.js';
import { run, withConnection, type Target } from '../probe/connection.js';
import { changeSourceTo, REPLICA_NET_TIMEOUT_SECONDS, semiSyncRole, type RecoveryContext } from './context.js';
import { readState } from './read-state.js';

export class ErrantGtidError extends Error {
  constructor(
    readonly instanceId: string,
    readonly errantGtids: string[],
  ) {
    super(`${instanceId} has errant GTIDs ${errantGtids.join(',')} that the primary does not have; it stays fenced`);
    this.name = 'ErrantGtidError';
  }
}

export async function rejoin(ctx: RecoveryContext, inst: Target, primary: Target): Promise<void> {
  const primaryState = await withConnection(primary, ctx.creds, ctx.connectTimeoutMs, (c) => readState(c, ctx.flavor, ctx.statementTimeoutMs));
  await withConnection(inst, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    // Fence first: whatever happens next, it must not take writes.
    for (const sql of ctx.flavor.fence) await run(c, sql, [], ctx.statementTimeoutMs);
    const st = await readState(c, ctx.flavor, ctx.statementTimeoutMs);
    const errant = errantBetween(st.gtidBinlogState, primaryState.gtidBinlogState, primaryState.serverId);
    if (errant.length > 0) {
      ctx.step(`refused to rejoin ${inst.id}: errant GTIDs ${errant.join(',')}`, { instance: inst.id, errantGtids: errant });
      throw new ErrantGtidError(inst.id, errant);
    }
    // A former primary's own writes are in its binlog, not in gtid_slave_pos: current_pos covers both.
    const mode = st.replication === null ? 'current_pos' : 'slave_pos';
    if (st.replication !== null) await run(c, ctx.flavor.stopReplica, [], ctx.statementTimeoutMs);
    for (const sql of semiSyncRole(ctx, 'replica')) await run(c, sql, [], ctx.statementTimeoutMs);
    // Set before the IO thread connects, which is when it reads it (a restarted old primary has the 60 s default).
    await run(c, ctx.flavor.replicaNetTimeoutSql(REPLICA_NET_TIMEOUT_SECONDS), [], ctx.statementTimeoutMs);
    await run(c, changeSourceTo(ctx, primary, mode), [], ctx.statementTimeoutMs);
    await run(c, ctx.flavor.startReplica, [], ctx.statementTimeoutMs);
    ctx.step(`re-attached ${inst.id} as a replica of ${primary.id} (MASTER_USE_GTID=${mode})`, { instance: inst.id, primary: primary.id });
  });
}
