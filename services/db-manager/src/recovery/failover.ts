// Failover: the primary is dead. Fence it if it answers at all, let the chosen replica apply its
// relay log (it holds what semi-sync acknowledged), promote it, and repoint the other replicas by GTID.
import { waitAfterPromotion } from '../analysis/semi-sync.js';
import type { InstanceSnapshot, TopologySnapshot } from '../analysis/snapshot.js';
import { errorText, run, withConnection, type Target } from '../probe/connection.js';
import { changeSourceTo, RecoveryError, type RecoveryContext } from './context.js';
import { fenceInstance } from './fence.js';
import { readState, waitForGtid } from './read-state.js';

export interface FailoverResult {
  oldPrimaryId: string | null;
  newPrimaryId: string;
  oldPrimaryFenced: boolean;
  /** Semi-sync managed: whether the new primary waits for acks (only when another replica can give them). */
  semiSyncWaiting: boolean | null;
  repointed: string[];
  failedToRepoint: Array<{ id: string; error: string }>;
  durationMs: number;
}

export interface FailoverHooks {
  /** The candidate is writable: name it the primary now (clients move), before the others are repointed. */
  promoted?(id: string): Promise<void> | void;
}

export async function failover(ctx: RecoveryContext, s: TopologySnapshot, candidateId: string, opts: { relayApplyTimeoutMs: number }, hooks: FailoverHooks = {}): Promise<FailoverResult> {
  const t0 = Date.now();
  const old = s.instances.find((i) => i.id === s.primaryId);
  const candidate = s.instances.find((i) => i.id === candidateId);
  if (!candidate) throw new RecoveryError(`failover candidate ${candidateId} is not a known instance`);
  ctx.step(`failover from ${old?.id ?? '(none)'} to ${candidate.id} started`, { from: old?.id ?? null, to: candidate.id });

  // Fencing runs beside the promotion: on a dead host it costs one connect timeout.
  const fencing = old
    ? fenceInstance(ctx, old, { killConnections: true }).then(
        () => true,
        (err: unknown) => {
          ctx.step(`old primary ${old.id} could not be fenced (${errorText(err)}); it is quarantined`, { instance: old.id });
          return false;
        },
      )
    : Promise.resolve(false);

  // Every replica stops listening to the old primary at once: on a hung one each stop costs up to a
  // second (beforeStopIoThread), so they run side by side rather than one after the other.
  const rest = s.instances.filter((i) => i.id !== candidate.id && i.id !== old?.id && i.reachable && i.replication !== null);
  const restStopped = rest.map((r) => stopIoThread(ctx, r).catch(() => undefined));
  const semiSyncWaiting = ctx.semiSync ? waitAfterPromotion(s, candidate.id) : null;

  await withConnection(candidate, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    for (const sql of [...ctx.flavor.beforeStopIoThread, ctx.flavor.stopIoThread]) await run(c, sql, [], ctx.statementTimeoutMs);
    const st = await readState(c, ctx.flavor, ctx.statementTimeoutMs);
    const received = st.replication?.gtidIoPos ?? '';
    ctx.step(`${candidate.id}: IO thread stopped; applying relay log up to ${received} (applied ${st.gtidCurrentPos})`, { instance: candidate.id });
    const applied = await waitForGtid(c, ctx.flavor, received, opts.relayApplyTimeoutMs);
    if (!applied) {
      await run(c, ctx.flavor.startReplica, [], ctx.statementTimeoutMs).catch(() => undefined);
      throw new RecoveryError(`${candidate.id} did not apply its relay log (${received}) within ${opts.relayApplyTimeoutMs} ms`, { candidate: candidate.id, received });
    }
    const after = await readState(c, ctx.flavor, ctx.statementTimeoutMs);
    if (after.replication && after.replication.lastSqlErrno !== 0) {
      throw new RecoveryError(`${candidate.id} SQL thread failed while applying its relay log: ${after.replication.lastSqlError}`, { candidate: candidate.id });
    }
    ctx.step(`${candidate.id} applied its relay log up to ${received || after.gtidCurrentPos}`, { instance: candidate.id, gtid: after.gtidCurrentPos });
    await run(c, ctx.flavor.stopReplica, [], ctx.statementTimeoutMs);
    await run(c, ctx.flavor.resetReplicaAll, [], ctx.statementTimeoutMs);
    const sync = ctx.semiSync ? [ctx.flavor.semiSyncSource(semiSyncWaiting === true)] : [];
    for (const sql of [...sync, ...ctx.flavor.unfence]) await run(c, sql, [], ctx.statementTimeoutMs);
    ctx.step(`promoted ${candidate.id} to primary`, { instance: candidate.id });
  });
  await hooks.promoted?.(candidate.id);

  await Promise.all(restStopped);
  const results = await Promise.all(rest.map((r) => repoint(ctx, r, candidate).then(() => null, (err: unknown) => ({ id: r.id, error: errorText(err) }))));
  const failedToRepoint = results.filter((r): r is { id: string; error: string } => r !== null);
  for (const f of failedToRepoint) ctx.step(`could not repoint ${f.id}: ${f.error}`, { instance: f.id });
  const oldPrimaryFenced = await fencing;
  return {
    oldPrimaryId: old?.id ?? null,
    newPrimaryId: candidate.id,
    oldPrimaryFenced,
    semiSyncWaiting,
    repointed: rest.map((r) => r.id).filter((id) => !failedToRepoint.some((f) => f.id === id)),
    failedToRepoint,
    durationMs: Date.now() - t0,
  };
}

async function stopIoThread(ctx: RecoveryContext, replica: Target): Promise<void> {
  await withConnection(replica, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    for (const sql of [...ctx.flavor.beforeStopIoThread, ctx.flavor.stopIoThread]) await run(c, sql, [], ctx.statementTimeoutMs);
  });
}

export async function repoint(ctx: RecoveryContext, replica: InstanceSnapshot | Target, source: Target): Promise<void> {
  await withConnection(replica, ctx.creds, ctx.connectTimeoutMs, async (c) => {
    await run(c, ctx.flavor.stopReplica, [], ctx.statementTimeoutMs);
    await run(c, changeSourceTo(ctx, source, 'slave_pos'), [], ctx.statementTimeoutMs);
    await run(c, ctx.flavor.startReplica, [], ctx.statementTimeoutMs);
  });
  ctx.step(`repointed ${replica.id} to ${source.id}`, { instance: replica.id, source: source.id });
}
