// The SQL dialect behind one interface: MariaDB (tested here) and MySQL 8 differ in replication
// statements, status column names and GTID variables, not in what the manager does with them.

export interface ChangeSourceOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** MariaDB only: slave_pos for a replica, current_pos for a former primary re-attached. */
  gtidMode: 'slave_pos' | 'current_pos';
  connectRetrySeconds: number;
  heartbeatPeriodSeconds: number;
}

/** Replication status of one instance, as both dialects report it. */
export interface ReplicationStatus {
  sourceHost: string;
  sourcePort: number;
  sourceServerId: number | null;
  ioRunning: 'Yes' | 'No' | 'Connecting';
  sqlRunning: boolean;
  lastIoErrno: number;
  lastIoError: string;
  lastSqlErrno: number;
  lastSqlError: string;
  secondsBehindSource: number | null;
  /** GTIDs received by the IO thread (MariaDB Gtid_IO_Pos, MySQL Retrieved_Gtid_Set). */
  gtidIoPos: string;
  usingGtid: boolean;
}

export interface Flavor {
  readonly name: 'mariadb' | 'mysql';
  /** One row: server_id, read_only, version, gtid_binlog_pos, gtid_current_pos, gtid_slave_pos, gtid_binlog_state, semi_master, semi_replica, semi_timeout, net_timeout. */
  readonly variablesSql: string;
  readonly replicaStatusSql: string;
  /**
   * Status queries, each returning Variable_name/Value rows: semi-sync state (Rpl_semi_sync_*) and
   * what the IO thread received (slave_received_heartbeats, slave_heartbeat_period).
   */
  readonly statusSql: readonly string[];
  parseReplicaStatus(row: Record<string, unknown>): ReplicationStatus;
  changeSource(o: ChangeSourceOptions): string;
  readonly startReplica: string;
  readonly stopReplica: string;
  readonly stopIoThread: string;
  /**
   * Run before stopping an IO thread whose source may hang: a MariaDB semi-sync replica connects to
   * its source to kill its dump thread on stop and waits rpl_semi_sync_slave_kill_conn_timeout for it.
   */
  readonly beforeStopIoThread: string[];
  readonly resetReplicaAll: string;
  /** Waits until the GTID set/position is applied; the query returns one row with column r = 0 on success. */
  waitForGtid(position: string, timeoutSeconds: number): { sql: string; params: unknown[] };
  /** Statements that fence an instance against writes (read_only, and super_read_only where it exists). */
  readonly fence: string[];
  readonly unfence: string[];
  /** Statements that enable semi-sync (replica side, AFTER_SYNC wait point, plugins where needed). */
  semiSyncEnable(): string[];
  /**
   * The source side, switched on only on the primary: on a replica with log_slave_updates, an
   * enabled source side makes the applier wait for acks nobody sends (AFTER_SYNC).
   */
  semiSyncSource(on: boolean): string;
  /** Sets the heartbeat period a replica asks its source for (the replication threads are restarted). */
  heartbeatPeriodSql(seconds: number): string[];
  readonly replicaNetTimeoutSql: (seconds: number) => string;
  /** Variable names read back to keep bootstrap idempotent. */
  readonly replicaNetTimeoutVar: string;
  readonly semiSyncVars: { source: string; replica: string; waitPoint: string };
  replicationGrant(user: string): string;
}
