// The heartbeat row the manager writes on the primary (pt-heartbeat style). Replicas apply it like
// any write, so "primary's heartbeat minus the replica's" is the real replication delay, in the
// manager's own clock, even when Seconds_Behind_Master is NULL or misleading.
import { errorText, openConnection, run, type Connection, type Credentials, type Target } from './connection.js';

export const META_SCHEMA = 'dramble_meta';
export const HEARTBEAT_TABLE = `${META_SCHEMA}.heartbeat`;
export const CREATE_META_SQL = [
  `CREATE DATABASE IF NOT EXISTS ${META_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, ts BIGINT NOT NULL, server_id INT UNSIGNED NOT NULL) ENGINE=InnoDB`,
];

export class HeartbeatWriter {
  private conn: Connection | undefined;
  private target: Target | undefined;
  private inFlight = false;
  lastError: string | null = null;

  constructor(
    private readonly creds: Credentials,
    private readonly timeoutMs: number,
  ) {}

  private paused = false;
  private current: Promise<void> = Promise.resolve();

  /** Stops writing and waits for a write in flight, so recovery can read a final GTID position. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.current;
  }

  resume(): void {
    this.paused = false;
  }

  /**
   * Stops writing without waiting: for a failover, where a write in flight may hang on the dead or
   * hung primary for the whole statement timeout. Its connection is dropped; whatever it did on the
   * old primary is that instance's errant transaction (it is fenced and reported).
   */
  abandon(): void {
    this.paused = true;
    this.generation++;
    this.inFlight = false;
    this.drop();
  }

  private generation = 0;

  /** Writes one heartbeat on the given primary unless the previous write is still waiting (semi-sync ack). */
  beat(primary: Target, now: number): void {
    if (this.inFlight || this.paused) return;
    this.inFlight = true;
    const generation = this.generation;
    this.current = this.write(primary, now).finally(() => {
      if (generation === this.generation) this.inFlight = false;
    });
  }

  private async write(primary: Target, now: number): Promise<void> {
    const generation = this.generation;
    try {
      if (this.target?.id !== primary.id) {
        this.drop();
        this.target = primary;
      }
      if (!this.conn) {
        const fresh = await openConnection(primary, this.creds, this.timeoutMs);
        if (generation !== this.generation) return void fresh.destroy(); // abandoned while connecting
        this.conn = fresh;
      }
      const conn = this.conn;
      // Never on a fenced instance: the manager's user bypasses read_only, and a heartbeat landing on
      // an old primary after it was fenced would be an errant transaction.
      const sql = `INSERT INTO ${HEARTBEAT_TABLE} (id, ts, server_id) SELECT 1, ?, @@server_id FROM DUAL WHERE @@global.read_only = 0 ON DUPLICATE KEY UPDATE ts=VALUES(ts), server_id=VALUES(server_id)`;
      try {
        await run(conn, sql, [now], 15_000);
      } catch (err) {
        const errno = (err as { errno?: number }).errno;
        if (errno !== 1146 && errno !== 1049) throw err;
        for (const s of CREATE_META_SQL) await run(conn, s, [], 15_000);
        await run(conn, sql, [now], 15_000);
      }
      this.lastError = null;
    } catch (err) {
      this.lastError = errorText(err);
      if (generation === this.generation) this.drop(); // an abandoned write's connection is gone already
    }
  }

  drop(): void {
    this.conn?.destroy();
    this.conn = undefined;
  }
}
