// Probes one instance: keeps a connection open between probes and reads everything the analysis
// needs in a few round trips. Any error or timeout counts as a failed probe and drops the connection.
import type { Flavor } from '../flavor/types.js';
import { flavorFor } from '../flavor/index.js';
import type { InstanceSnapshot, SemiSyncState } from '../analysis/snapshot.js';
import { errorText, openConnection, run, withDeadline, type Connection, type Credentials, type Target } from './connection.js';
import { HEARTBEAT_TABLE } from './heartbeat.js';

export type ProbeResult = Omit<InstanceSnapshot, 'consecutiveFailures' | 'firstFailureAt' | 'priority' | 'receivedAt'>;
type ReadResult = Omit<ProbeResult, 'id' | 'host' | 'port' | 'reachable' | 'lastError' | 'probedAt'>;

function connectionClosed(err: unknown): boolean {
  const e = err as { code?: string; message?: string; fatal?: boolean };
  return e.code === 'PROTOCOL_CONNECTION_LOST' || e.code === 'ECONNRESET' || e.code === 'EPIPE' || /closed state/.test(e.message ?? '');
}

export class InstanceProbe {
  private conn: Connection | undefined;
  flavor: Flavor;

  constructor(
    readonly target: Target,
    private readonly creds: Credentials,
    private readonly timeoutMs: number,
    private readonly flavorSetting: 'auto' | 'mariadb' | 'mysql',
  ) {
    this.flavor = flavorFor(flavorSetting);
  }

  async probe(now: () => number = Date.now): Promise<ProbeResult> {
    const base = { id: this.target.id, host: this.target.host, port: this.target.port };
    try {
      const r = await withDeadline(this.read(), this.timeoutMs * 2, `probe of ${this.target.id} timed out after ${this.timeoutMs * 2} ms`);
      return { ...base, ...r, reachable: true, lastError: null, probedAt: now() };
    } catch (err) {
      this.drop();
      return {
        ...base, reachable: false, lastError: errorText(err), serverId: null, readOnly: null, version: null,
        gtidBinlogPos: '', gtidCurrentPos: '', gtidSlavePos: '', gtidBinlogState: '', replication: null, heartbeatTs: null, semiSync: null, receive: null, replicaNetTimeoutSeconds: null, probedAt: now(),
      };
    }
  }

  /**
   * A kept connection that turns out closed (killed by a fence, wait_timeout) says nothing about the
   * server: ask again once on a fresh one. A timeout is never retried, so a hung server still fails
   * within one probe timeout.
   */
  private async read(): Promise<ReadResult> {
    const reused = this.conn !== undefined;
    try {
      return await this.readOnce();
    } catch (err) {
      if (!reused || !connectionClosed(err)) throw err;
      this.drop();
      return this.readOnce();
    }
  }

  private async readOnce(): Promise<ReadResult> {
    this.conn ??= await openConnection(this.target, this.creds, this.timeoutMs);
    const c = this.conn;
    const t = this.timeoutMs;
    const [v] = await run(c, this.flavor.variablesSql, [], t);
    if (!v) throw new Error('no variables row');
    const version = String(v['version'] ?? '');
    if (this.flavorSetting === 'auto') this.flavor = flavorFor('auto', version);
    const status = await run(c, this.flavor.replicaStatusSql, [], t);
    const statusRows: Array<{ Variable_name: string; Value: unknown }> = [];
    for (const sql of this.flavor.statusSql) {
      try {
        statusRows.push(...(await run<{ Variable_name: string; Value: unknown }>(c, sql, [], t)));
      } catch (err) {
        // A server that refuses one status query (MySQL with performance_schema off) still answered:
        // those figures are unknown. Timeouts and lost connections have no SQL state and fail the probe.
        if ((err as { sqlState?: string }).sqlState === undefined) throw err;
      }
    }
    const semiStatus = new Map(statusRows.map((r) => [r.Variable_name.toLowerCase(), String(r.Value ?? '')]));
    const numberOf = (name: string): number | null => {
      const x = semiStatus.get(name);
      return x === undefined || x === '' || !Number.isFinite(Number(x)) ? null : Number(x);
    };
    const on = (name: string): boolean => ['ON', '1'].includes(semiStatus.get(name)?.toUpperCase() ?? '');
    let heartbeatTs: number | null = null;
    try {
      const [hb] = await run(c, `SELECT ts FROM ${HEARTBEAT_TABLE} WHERE id=1`, [], t);
      heartbeatTs = hb ? Number(hb['ts']) : null;
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno !== 1146 && errno !== 1049) throw err; // no heartbeat table yet is fine
    }
    const semiSync: SemiSyncState = {
      sourceEnabled: Number(v['semi_master']) === 1 || on('rpl_semi_sync_source_enabled'),
      replicaEnabled: Number(v['semi_replica']) === 1 || on('rpl_semi_sync_replica_enabled'),
      sourceActive: [...semiStatus].some(([k, val]) => /semi_sync_(master|source)_status/.test(k) && val.toUpperCase() === 'ON'),
      clients: Number([...semiStatus].find(([k]) => /semi_sync_(master|source)_clients/.test(k))?.[1] ?? 0),
      timeoutMs: v['semi_timeout'] !== null && v['semi_timeout'] !== undefined ? Number(v['semi_timeout']) : numberOf('rpl_semi_sync_source_timeout'),
    };
    const replication = status[0] ? this.flavor.parseReplicaStatus(status[0]) : null;
    return {
      serverId: Number(v['server_id']),
      readOnly: Number(v['read_only']) === 1,
      version,
      gtidBinlogPos: String(v['gtid_binlog_pos'] ?? ''),
      gtidCurrentPos: String(v['gtid_current_pos'] ?? ''),
      gtidSlavePos: String(v['gtid_slave_pos'] ?? ''),
      gtidBinlogState: String(v['gtid_binlog_state'] ?? ''),
      replication,
      heartbeatTs,
      semiSync,
      replicaNetTimeoutSeconds: v['net_timeout'] === null || v['net_timeout'] === undefined ? null : Number(v['net_timeout']),
      receive: replication ? { heartbeats: numberOf('slave_received_heartbeats'), heartbeatPeriodSeconds: numberOf('slave_heartbeat_period') } : null,
    };
  }

  drop(): void {
    this.conn?.destroy();
    this.conn = undefined;
  }

  close(): void {
    this.drop();
  }
}
