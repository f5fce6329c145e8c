// Small reconciling actions on replication settings: whether the primary waits for semi-sync acks,
// the replica side of semi-sync, and the replica settings a restart loses (net timeout, heartbeat period).
import { run, withConnection, type Target } from '../probe/connection.js';
import type { RecoveryContext } from './context.js';

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

/**
 * Sets what drifted (analysis/replica-drift.ts) and reconnects the IO thread: it reads
 * slave_net_timeout and the heartbeat period only when it connects to its source.
 */
export async function repairReplicaSettings(ctx: RecoveryContext, replica: Target, fix: { netTimeoutSeconds: number | null; heartbeatPeriodSeconds: number | null }): Promise<void> {
  ctx.assertLeader?.();
  await withConnection(replica, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    if (fix.netTimeoutSeconds !== null) await run(c, ctx.flavor.replicaNetTimeoutSql(fix.netTimeoutSeconds), [], ctx.statementTimeoutMs);
    if (fix.heartbeatPeriodSeconds !== null) {
      // Stops and starts the threads itself.
      for (const sql of ctx.flavor.heartbeatPeriodSql(fix.heartbeatPeriodSeconds)) await run(c, sql, [], ctx.statementTimeoutMs);
      return;
    }
    for (const sql of [...ctx.flavor.beforeStopIoThread, ctx.flavor.stopIoThread, ctx.flavor.startReplica]) await run(c, sql, [], ctx.statementTimeoutMs);
  });
  const parts = [
    fix.netTimeoutSeconds !== null ? `${ctx.flavor.replicaNetTimeoutVar}=${fix.netTimeoutSeconds} s` : '',
    fix.heartbeatPeriodSeconds !== null ? `heartbeat period ${fix.heartbeatPeriodSeconds} s` : '',
  ].filter(Boolean);
  ctx.step(`${replica.id}: ${parts.join(', ')} set again (IO thread reconnected)`, { instance: replica.id, ...fix });
}
