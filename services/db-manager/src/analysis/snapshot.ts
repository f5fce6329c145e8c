// Plain data the analysis works on: what the probes saw of every instance plus the manager's own
// memory (current primary, quarantined instances, last failover). No sockets, no clocks.
import type { ReplicationStatus } from '../flavor/types.js';
import type { RestartHistory } from './io-errors.js';

export interface SemiSyncState {
  sourceEnabled: boolean;
  replicaEnabled: boolean;
  /** The source is currently waiting for acks (falls back to async after a timeout). */
  sourceActive: boolean;
  clients: number;
  /** rpl_semi_sync_master_timeout / rpl_semi_sync_source_timeout (ms), null when unknown. */
  timeoutMs: number | null;
}

/** What a replica's IO thread reports receiving from its source (status counters, not SHOW SLAVE STATUS). */
export interface ReceiveStatus {
  /** Heartbeat events received from the source (Slave_received_heartbeats). */
  heartbeats: number | null;
  /** The heartbeat period the source was asked for (MASTER_HEARTBEAT_PERIOD), seconds. */
  heartbeatPeriodSeconds: number | null;
}

export interface InstanceSnapshot {
  id: string;
  host: string;
  port: number;
  /** Lower is preferred when promoting (the order of --instances). */
  priority: number;
  reachable: boolean;
  consecutiveFailures: number;
  /** When the current run of failed probes began (ms), null while reachable. */
  firstFailureAt: number | null;
  lastError: string | null;
  serverId: number | null;
  readOnly: boolean | null;
  version: string | null;
  gtidBinlogPos: string;
  gtidCurrentPos: string;
  gtidSlavePos: string;
  gtidBinlogState: string;
  replication: ReplicationStatus | null;
  /** Manager-clock time (ms) stored in the heartbeat row this instance has applied. */
  heartbeatTs: number | null;
  semiSync: SemiSyncState | null;
  receive: ReceiveStatus | null;
  /** slave_net_timeout / replica_net_timeout (s): lost with a restart when set with SET GLOBAL only. */
  replicaNetTimeoutSeconds: number | null;
  /**
   * Manager memory: when (manager clock, ms) the probes last saw this replica receive something
   * from its source (its received GTID position or heartbeat count moved, or its IO thread
   * (re)connected); null when it is not a replica.
   */
  receivedAt: number | null;
  probedAt: number;
}

export interface AnalysisPolicy {
  failoverAfterProbes: number;
  failoverMinMs: number;
  failoverCooldownMs: number;
  maxPromotionLagSeconds: number;
  laggingReplicaSeconds: number;
  autoRejoin: boolean;
  /** A replica whose IO thread says Yes but received nothing for this long has lost its source. */
  replicaSilenceMs: number;
  /** Semi-sync is managed: the primary waits for an ack whenever a healthy replica exists. */
  semiSync: boolean;
}

export interface TopologySnapshot {
  now: number;
  primaryId: string | null;
  instances: InstanceSnapshot[];
  /** Instances fenced by the manager (old primaries, errant ones): id -> reason. */
  quarantined: Record<string, string>;
  /** Errant GTIDs last computed per instance, kept for when the primary cannot be asked. */
  knownErrant: Record<string, string[]>;
  lastFailoverAt: number | null;
  /** Replication restarts after a network error per replica, since it last replicated (backoff). */
  replicationRestarts: Record<string, RestartHistory>;
  policy: AnalysisPolicy;
}

export function emptyInstance(id: string, host: string, port: number, priority: number): InstanceSnapshot {
  return {
    id, host, port, priority,
    reachable: false, consecutiveFailures: 0, firstFailureAt: null, lastError: null,
    serverId: null, readOnly: null, version: null,
    gtidBinlogPos: '', gtidCurrentPos: '', gtidSlavePos: '', gtidBinlogState: '',
    replication: null, heartbeatTs: null, semiSync: null, receive: null, replicaNetTimeoutSeconds: null, receivedAt: null, probedAt: 0,
  };
}
