// What the manager should do about a problem: one action on one instance, or nothing.

export type Plan =
  | { action: 'none'; reason: string }
  | { action: 'failover'; candidateId: string }
  | { action: 'fence'; instanceId: string }
  | { action: 'setReadOnly'; instanceId: string }
  | { action: 'setWritable'; instanceId: string }
  | { action: 'quarantine'; instanceId: string; errantGtids: string[] }
  | { action: 'rejoin'; instanceId: string }
  | { action: 'startReplication'; instanceId: string }
  /** After a network error: like startReplication, but counted for the backoff (analysis/io-errors.ts). */
  | { action: 'restartReplication'; instanceId: string }
  | { action: 'semiSyncWait'; instanceId: string; on: boolean; reason: string }
  /** Each non-null value is set, then the IO thread reconnects (it reads both only when it connects). */
  | { action: 'repairReplicaSettings'; instanceId: string; netTimeoutSeconds: number | null; heartbeatPeriodSeconds: number | null }
  | { action: 'enableSemiSyncReplica'; instanceId: string };

export const noPlan = (reason: string): Plan => ({ action: 'none', reason });
