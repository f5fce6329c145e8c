// Small reconciling actions on replication settings: whether the primary waits for semi-sync acks,
// the replica side of semi-sync, and the heartbeat period a replica asks its source for.
import { run, withConnection, type Target } from '../probe/connection.js';
import { HEARTBEAT_PERIOD_SECONDS, type RecoveryContext } from './context.js';

/** Turns waiting for acks on (with the never-give-up timeout) or off on the primary. Off releases commits waiting now. */
export async function setSemiSyncWait(ctx: RecoveryContext, primary: Target, on: boolean): Promise<void> {
  await withConnection(primary, ctx.creds, ctx.connectTimeoutMs, (c) => run(c, ctx.flavor.semiSyncSource(on), [], ctx.statementTimeoutMs));
  ctx.step(`${primary.id}: semi-sync waiting switched ${on ? 'on' : 'off'}`, { instance: primary.id, on });
}

/** The replica side, picked up by the IO thread only when it reconnects. */
export async function enableSemiSyncReplica(ctx: RecoveryContext, replica: Target): Promise<void> {
  await withConnection(replica, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    // The plugin may be installed already (MySQL): the SET statements are what matters.
    for (const sql of ctx.flavor.semiSyncEnable()) await run(c, sql, [], ctx.statementTimeoutMs).catch((err: unknown) => {
      if (!/INSTALL PLUGIN/i.test(sql)) throw err;
    });
    await run(c, ctx.flavor.semiSyncSource(false), [], ctx.statementTimeoutMs);
    await run(c, ctx.flavor.stopIoThread, [], ctx.statementTimeoutMs);
    await run(c, ctx.flavor.startReplica, [], ctx.statementTimeoutMs);
  });
  ctx.step(`semi-sync replica side on for ${replica.id} (IO thread reconnected)`, { instance: replica.id });
}

export async function setHeartbeatPeriod(ctx: RecoveryContext, replica: Target): Promise<void> {
  await withConnection(replica, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    for (const sql of ctx.flavor.heartbeatPeriodSql(HEARTBEAT_PERIOD_SECONDS)) await run(c, sql, [], ctx.statementTimeoutMs);
  });
  ctx.step(`${replica.id} asks its source for a heartbeat every ${HEARTBEAT_PERIOD_SECONDS} s`, { instance: replica.id });
}
