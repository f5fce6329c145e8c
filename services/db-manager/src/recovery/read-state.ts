// Reading an instance's current state inside a recovery step (fresh, not the last probe's).
import type { Flavor, ReplicationStatus } from '../flavor/types.js';
import { run, type Connection } from '../probe/connection.js';

export interface LiveState {
  serverId: number;
  readOnly: boolean;
  gtidBinlogPos: string;
  gtidCurrentPos: string;
  gtidBinlogState: string;
  replication: ReplicationStatus | null;
}

export async function readState(c: Connection, flavor: Flavor, timeoutMs: number): Promise<LiveState> {
  const [v] = await run(c, flavor.variablesSql, [], timeoutMs);
  const [st] = await run(c, flavor.replicaStatusSql, [], timeoutMs);
  return {
    serverId: Number(v?.['server_id']),
    readOnly: Number(v?.['read_only']) === 1,
    gtidBinlogPos: String(v?.['gtid_binlog_pos'] ?? ''),
    gtidCurrentPos: String(v?.['gtid_current_pos'] ?? ''),
    gtidBinlogState: String(v?.['gtid_binlog_state'] ?? ''),
    replication: st ? flavor.parseReplicaStatus(st) : null,
  };
}

/** Waits until the instance has applied a GTID position; false on timeout. */
export async function waitForGtid(c: Connection, flavor: Flavor, position: string, timeoutMs: number): Promise<boolean> {
  if (position.trim() === '') return true;
  const w = flavor.waitForGtid(position, Math.max(0.001, timeoutMs / 1000));
  const [row] = await run(c, w.sql, w.params, timeoutMs + 5000);
  return Number(row?.['r']) === 0;
}
