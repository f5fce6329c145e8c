// MariaDB 10.x dialect: CHANGE MASTER TO ... MASTER_USE_GTID, SHOW SLAVE STATUS, gtid_* variables.
import type { ChangeSourceOptions, Flavor, ReplicationStatus } from './types.js';
import { quote, num, str, ioState } from './sql.js';
import { SEMI_SYNC_TIMEOUT_MS } from '../analysis/semi-sync.js';

export const mariadb: Flavor = {
  name: 'mariadb',
  variablesSql:
    'SELECT @@server_id AS server_id, @@read_only AS read_only, @@version AS version, @@gtid_binlog_pos AS gtid_binlog_pos, ' +
    '@@gtid_current_pos AS gtid_current_pos, @@gtid_slave_pos AS gtid_slave_pos, @@gtid_binlog_state AS gtid_binlog_state, ' +
    '@@rpl_semi_sync_master_enabled AS semi_master, @@rpl_semi_sync_slave_enabled AS semi_replica, @@rpl_semi_sync_master_timeout AS semi_timeout, ' +
    '@@slave_net_timeout AS net_timeout',
  replicaStatusSql: 'SHOW SLAVE STATUS',
  statusSql: [
    'SHOW GLOBAL STATUS WHERE Variable_name IN ' +
      "('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients', 'Rpl_semi_sync_slave_status', 'Slave_received_heartbeats', 'Slave_heartbeat_period')",
  ],
  parseReplicaStatus(row): ReplicationStatus {
    return {
      sourceHost: str(row['Master_Host']),
      sourcePort: num(row['Master_Port']) ?? 0,
      sourceServerId: num(row['Master_Server_Id']) || null,
      ioRunning: ioState(row['Slave_IO_Running']),
      sqlRunning: str(row['Slave_SQL_Running']) === 'Yes',
      lastIoErrno: num(row['Last_IO_Errno']) ?? 0,
      lastIoError: str(row['Last_IO_Error']),
      lastSqlErrno: num(row['Last_SQL_Errno']) ?? 0,
      lastSqlError: str(row['Last_SQL_Error']),
      secondsBehindSource: num(row['Seconds_Behind_Master']),
      gtidIoPos: str(row['Gtid_IO_Pos']),
      usingGtid: ['Slave_Pos', 'Current_Pos'].includes(str(row['Using_Gtid'])),
    };
  },
  changeSource(o: ChangeSourceOptions): string {
    return (
      `CHANGE MASTER TO MASTER_HOST=${quote(o.host)}, MASTER_PORT=${o.port}, MASTER_USER=${quote(o.user)}, ` +
      `MASTER_PASSWORD=${quote(o.password)}, MASTER_USE_GTID=${o.gtidMode}, MASTER_CONNECT_RETRY=${o.connectRetrySeconds}, ` +
      `MASTER_HEARTBEAT_PERIOD=${o.heartbeatPeriodSeconds}`
    );
  },
  startReplica: 'START SLAVE',
  stopReplica: 'STOP SLAVE',
  stopIoThread: 'STOP SLAVE IO_THREAD',
  // Default 5 s; 1 s is the least that still kills the dump thread on a live source (0 waits for TCP).
  beforeStopIoThread: ['SET GLOBAL rpl_semi_sync_slave_kill_conn_timeout=1'],
  resetReplicaAll: 'RESET SLAVE ALL',
  waitForGtid: (position, timeoutSeconds) => ({ sql: 'SELECT MASTER_GTID_WAIT(?, ?) AS r', params: [position, timeoutSeconds] }),
  fence: ['SET GLOBAL read_only=ON'],
  unfence: ['SET GLOBAL read_only=OFF'],
  semiSyncEnable: () => [
    'SET GLOBAL rpl_semi_sync_slave_enabled=ON',
    // AFTER_SYNC: no client sees a commit before a replica has it, so a failover loses nothing acknowledged.
    'SET GLOBAL rpl_semi_sync_master_wait_point=AFTER_SYNC',
  ],
  // Waiting on comes with the "never give up" timeout: a primary that falls back to async on its own
  // acknowledges writes no replica has (SEMI_SYNC_TIMEOUT_MS explains).
  semiSyncSource: (on) => (on ? `SET GLOBAL rpl_semi_sync_master_timeout=${SEMI_SYNC_TIMEOUT_MS}, GLOBAL rpl_semi_sync_master_enabled=ON` : 'SET GLOBAL rpl_semi_sync_master_enabled=OFF'),
  heartbeatPeriodSql: (s) => ['STOP SLAVE', `CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=${s}`, 'START SLAVE'],
  replicaNetTimeoutSql: (s) => `SET GLOBAL slave_net_timeout=${s}`,
  replicaNetTimeoutVar: 'slave_net_timeout',
  semiSyncVars: { source: 'rpl_semi_sync_master_enabled', replica: 'rpl_semi_sync_slave_enabled', waitPoint: 'rpl_semi_sync_master_wait_point' },
  replicationGrant: (user) => `GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO ${quote(user)}@'%'`,
};
