// What every recovery action needs: how to connect, which dialect, replication credentials, and
// where to record each step.
import { HEARTBEAT_PERIOD_SECONDS } from '../analysis/replica-drift.js';
import type { Flavor } from '../flavor/types.js';
import type { Credentials, Target } from '../probe/connection.js';

export interface RecoveryContext {
  creds: Credentials;
  replication: Credentials;
  flavor: Flavor;
  /** Connect timeout for recovery connections (a dead host costs at most this). */
  connectTimeoutMs: number;
  /** Timeout of one ordinary statement. */
  statementTimeoutMs: number;
  /** Semi-sync is managed: the source side follows the primary role. */
  semiSync: boolean;
  /** Throws when this manager no longer holds the leader lease (ha/lease-guard.ts); call before a mutating statement not built by the flavor. */
  assertLeader?: () => void;
  /** Records one step (logged and kept as an event). */
  step(message: string, data?: Record<string, unknown>): void;
}

export const REPLICA_CONNECT_RETRY_SECONDS = 1;
// Owned by the analysis, which repairs a replica that lost them (analysis/replica-drift.ts).
export { HEARTBEAT_PERIOD_SECONDS, REPLICA_NET_TIMEOUT_SECONDS } from '../analysis/replica-drift.js';

export function changeSourceTo(ctx: RecoveryContext, source: Target, gtidMode: 'slave_pos' | 'current_pos'): string {
  return ctx.flavor.changeSource({
    host: source.host,
    port: source.port,
    user: ctx.replication.user,
    password: ctx.replication.password,
    gtidMode,
    connectRetrySeconds: REPLICA_CONNECT_RETRY_SECONDS,
    heartbeatPeriodSeconds: HEARTBEAT_PERIOD_SECONDS,
  });
}

/** Statements that give an instance the primary's or a replica's semi-sync source setting (none when semi-sync is off). */
export function semiSyncRole(ctx: RecoveryContext, role: 'primary' | 'replica'): string[] {
  return ctx.semiSync ? [ctx.flavor.semiSyncSource(role === 'primary')] : [];
}

export class RecoveryError extends Error {
  constructor(
    message: string,
    readonly facts: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'RecoveryError';
  }
}
