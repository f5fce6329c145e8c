// MySQL 8 dialect: CHANGE REPLICATION SOURCE TO ... SOURCE_AUTO_POSITION, SHOW REPLICA STATUS,
// gtid_executed, super_read_only. Statements only; the test servers here are MariaDB.
import type { ChangeSourceOptions, Flavor, ReplicationStatus } from './types.js';
import { quote, num, str, ioState } from './sql.js';
import { SEMI_SYNC_TIMEOUT_MS } from '../analysis/semi-sync.js';

export const mysql: Flavor = {
  name: 'mysql',
  // MySQL has one GTID set (gtid_executed); it stands in for every MariaDB position variable.
  variablesSql:
    'SELECT @@server_id AS server_id, @@read_only AS read_only, @@version AS version, @@gtid_executed AS gtid_binlog_pos, ' +
    '@@gtid_executed AS gtid_current_pos, @@gtid_executed AS gtid_slave_pos, @@gtid_executed AS gtid_binlog_state, ' +
    '0 AS semi_master, 0 AS semi_replica, NULL AS semi_timeout, @@replica_net_timeout AS net_timeout',
  replicaStatusSql: 'SHOW REPLICA STATUS',
  // The semi-sync variables exist only once the plugins are installed: read them as rows, not @@names.
  statusSql: [
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_source_status', 'Rpl_semi_sync_source_clients', 'Rpl_semi_sync_replica_status')",
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('rpl_semi_sync_source_enabled', 'rpl_semi_sync_replica_enabled', 'rpl_semi_sync_source_timeout')",
    "SELECT 'Slave_received_heartbeats' AS Variable_name, COUNT_RECEIVED_HEARTBEATS AS Value FROM performance_schema.replication_connection_status WHERE CHANNEL_NAME = '' " +
      "UNION ALL SELECT 'Slave_heartbeat_period', HEARTBEAT_INTERVAL FROM performance_schema.replication_connection_configuration WHERE CHANNEL_NAME = ''",
  ],
  parseReplicaStatus(row): ReplicationStatus {
    return {
      sourceHost: str(row['Source_Host']),
      sourcePort: num(row['Source_Port']) ?? 0,
      sourceServerId: num(row['Source_Server_Id']) || null,
      ioRunning: ioState(row['Replica_IO_Running']),
      sqlRunning: str(row['Replica_SQL_Running']) === 'Yes',
      lastIoErrno: num(row['Last_IO_Errno']) ?? 0,
      lastIoError: str(row['Last_IO_Error']),
      lastSqlErrno: num(row['Last_SQL_Errno']) ?? 0,
      lastSqlError: str(row['Last_SQL_Error']),
      secondsBehindSource: num(row['Seconds_Behind_Source']),
      gtidIoPos: str(row['Retrieved_Gtid_Set']),
      usingGtid: str(row['Auto_Position']) === '1',
    };
  },
  changeSource(o: ChangeSourceOptions): string {
    return (
      `CHANGE REPLICATION SOURCE TO SOURCE_HOST=${quote(o.host)}, SOURCE_PORT=${o.port}, SOURCE_USER=${quote(o.user)}, ` +
      `SOURCE_PASSWORD=${quote(o.password)}, SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=${o.connectRetrySeconds}, ` +
      `SOURCE_HEARTBEAT_PERIOD=${o.heartbeatPeriodSeconds}, GET_SOURCE_PUBLIC_KEY=1`
    );
  },
  startReplica: 'START REPLICA',
  stopReplica: 'STOP REPLICA',
  stopIoThread: 'STOP REPLICA IO_THREAD',
  beforeStopIoThread: [],
  resetReplicaAll: 'RESET REPLICA ALL',
  waitForGtid: (position, timeoutSeconds) => ({ sql: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r', params: [position, timeoutSeconds] }),
  // super_read_only also stops users with SUPER/CONNECTION_ADMIN, which read_only alone lets through.
  fence: ['SET GLOBAL super_read_only=ON'],
  unfence: ['SET GLOBAL super_read_only=OFF', 'SET GLOBAL read_only=OFF'],
  semiSyncEnable: () => [
    "INSTALL PLUGIN rpl_semi_sync_source SONAME 'semisync_source.so'",
    "INSTALL PLUGIN rpl_semi_sync_replica SONAME 'semisync_replica.so'",
    'SET GLOBAL rpl_semi_sync_replica_enabled=ON',
    'SET GLOBAL rpl_semi_sync_source_wait_point=AFTER_SYNC',
  ],
  semiSyncSource: (on) => (on ? `SET GLOBAL rpl_semi_sync_source_timeout=${SEMI_SYNC_TIMEOUT_MS}, GLOBAL rpl_semi_sync_source_enabled=ON` : 'SET GLOBAL rpl_semi_sync_source_enabled=OFF'),
  // MySQL 8 changes the heartbeat period with only the IO thread stopped; the applier keeps going.
  heartbeatPeriodSql: (s) => ['STOP REPLICA IO_THREAD', `CHANGE REPLICATION SOURCE TO SOURCE_HEARTBEAT_PERIOD=${s}`, 'START REPLICA IO_THREAD'],
  replicaNetTimeoutSql: (s) => `SET GLOBAL replica_net_timeout=${s}`,
  replicaNetTimeoutVar: 'replica_net_timeout',
  semiSyncVars: { source: 'rpl_semi_sync_source_enabled', replica: 'rpl_semi_sync_replica_enabled', waitPoint: 'rpl_semi_sync_source_wait_point' },
  replicationGrant: (user) => `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ${quote(user)}@'%'`,
};
