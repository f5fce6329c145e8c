// The two SQL dialects generate the statements each server understands.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mariadb, mysql } from '@dramble/db-manager';

const source = { host: '10.0.0.12', port: 3306, user: 'repl', password: "p'w", gtidMode: 'slave_pos' as const, connectRetrySeconds: 1, heartbeatPeriodSeconds: 2 };

describe('SQL dialects', () => {
  it('MariaDB attaches a replica with CHANGE MASTER TO ... MASTER_USE_GTID', () => {
    assert.equal(
      mariadb.changeSource(source),
      "CHANGE MASTER TO MASTER_HOST='10.0.0.12', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='p\\'w', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=2",
    );
    assert.match(mariadb.changeSource({ ...source, gtidMode: 'current_pos' }), /MASTER_USE_GTID=current_pos/);
    assert.equal(mariadb.replicaStatusSql, 'SHOW SLAVE STATUS');
    assert.deepEqual([mariadb.startReplica, mariadb.stopReplica, mariadb.resetReplicaAll], ['START SLAVE', 'STOP SLAVE', 'RESET SLAVE ALL']);
    assert.deepEqual(mariadb.waitForGtid('0-1-5', 2), { sql: 'SELECT MASTER_GTID_WAIT(?, ?) AS r', params: ['0-1-5', 2] });
    assert.match(mariadb.variablesSql, /@@gtid_slave_pos/);
    assert.deepEqual(mariadb.fence, ['SET GLOBAL read_only=ON']);
  });

  it('MySQL 8 attaches a replica with CHANGE REPLICATION SOURCE TO ... SOURCE_AUTO_POSITION', () => {
    assert.equal(
      mysql.changeSource(source),
      "CHANGE REPLICATION SOURCE TO SOURCE_HOST='10.0.0.12', SOURCE_PORT=3306, SOURCE_USER='repl', SOURCE_PASSWORD='p\\'w', SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, SOURCE_HEARTBEAT_PERIOD=2, GET_SOURCE_PUBLIC_KEY=1",
    );
    assert.equal(mysql.replicaStatusSql, 'SHOW REPLICA STATUS');
    assert.deepEqual([mysql.startReplica, mysql.stopReplica, mysql.resetReplicaAll], ['START REPLICA', 'STOP REPLICA', 'RESET REPLICA ALL']);
    assert.deepEqual(mysql.waitForGtid('uuid:1-5', 2), { sql: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r', params: ['uuid:1-5', 2] });
    assert.match(mysql.variablesSql, /@@gtid_executed/);
    assert.deepEqual(mysql.fence, ['SET GLOBAL super_read_only=ON']);
  });

  it('reads both dialects\' replica status into the same shape', () => {
    const common = { Last_IO_Errno: 0, Last_IO_Error: '', Last_SQL_Errno: 1062, Last_SQL_Error: 'Duplicate entry', Master_Port: 3306 };
    const m = mariadb.parseReplicaStatus({ ...common, Master_Host: 'db1', Master_Server_Id: 7, Slave_IO_Running: 'Connecting', Slave_SQL_Running: 'No', Seconds_Behind_Master: null, Gtid_IO_Pos: '0-7-9', Using_Gtid: 'Slave_Pos' });
    const y = mysql.parseReplicaStatus({ ...common, Source_Host: 'db1', Source_Port: 3306, Source_Server_Id: 7, Replica_IO_Running: 'Connecting', Replica_SQL_Running: 'No', Seconds_Behind_Source: null, Retrieved_Gtid_Set: '0-7-9', Auto_Position: 1 });
    assert.deepEqual(m, y);
    assert.equal(m.ioRunning, 'Connecting');
    assert.equal(m.lastSqlErrno, 1062);
  });

  it('switches semi-sync waiting on with a timeout the primary never reaches, and off alone, in both dialects', () => {
    assert.equal(mariadb.semiSyncSource(true), 'SET GLOBAL rpl_semi_sync_master_timeout=4294967295, GLOBAL rpl_semi_sync_master_enabled=ON');
    assert.equal(mariadb.semiSyncSource(false), 'SET GLOBAL rpl_semi_sync_master_enabled=OFF');
    assert.equal(mysql.semiSyncSource(true), 'SET GLOBAL rpl_semi_sync_source_timeout=4294967295, GLOBAL rpl_semi_sync_source_enabled=ON');
    assert.equal(mysql.semiSyncSource(false), 'SET GLOBAL rpl_semi_sync_source_enabled=OFF');
    assert.ok(mariadb.semiSyncEnable().some((x) => /wait_point=AFTER_SYNC/.test(x)));
    assert.ok(mysql.semiSyncEnable().some((x) => /wait_point=AFTER_SYNC/.test(x)));
  });

  it('sets the heartbeat period a replica asks for and reads what it received', () => {
    assert.deepEqual(mariadb.heartbeatPeriodSql(1), ['STOP SLAVE', 'CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=1', 'START SLAVE']);
    assert.deepEqual(mysql.heartbeatPeriodSql(1), ['STOP REPLICA IO_THREAD', 'CHANGE REPLICATION SOURCE TO SOURCE_HEARTBEAT_PERIOD=1', 'START REPLICA IO_THREAD']);
    assert.match(mariadb.statusSql.join(' '), /Slave_received_heartbeats/);
    assert.match(mysql.statusSql.join(' '), /COUNT_RECEIVED_HEARTBEATS/);
    // MySQL's super_read_only also stops SUPER users; MariaDB's read_only is paired with killing client sessions (recovery/fence.ts).
    assert.deepEqual(mysql.fence, ['SET GLOBAL super_read_only=ON']);
  });
});
