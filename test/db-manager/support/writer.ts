// A client that commits at a steady rate to whatever the manager says is the primary, as the app
// would, and records every acknowledged write (an INSERT that returned OK) with its time.
import mysql from 'mysql2/promise';

export const APP_USER = 'app';
export const APP_PASSWORD = 'app-password';

/** Creates the writer's schema and a non-SUPER user (read_only must stop it) on the primary. */
export const APP_SETUP_SQL = [
  'CREATE DATABASE IF NOT EXISTS app',
  'CREATE TABLE IF NOT EXISTS app.writes (id INT PRIMARY KEY, at BIGINT NOT NULL) ENGINE=InnoDB',
  `CREATE USER IF NOT EXISTS '${APP_USER}'@'%' IDENTIFIED BY '${APP_PASSWORD}'`,
  `GRANT SELECT, INSERT ON app.* TO '${APP_USER}'@'%'`,
];

export interface WriterStats {
  acked: number[];
  ackTimes: number[];
  errors: number;
}

export class Writer {
  readonly acked: number[] = [];
  readonly ackTimes: number[] = [];
  errors = 0;
  private next = 1;
  private stopped = false;
  private loop: Promise<void> | undefined;

  /**
   * followMoves: a write in flight is given up (not acknowledged) as soon as the topology names
   * another primary, as an app does that drops its pool on a topology change. Without it, a write
   * to a hung primary blocks this writer until its 15 s timeout.
   */
  constructor(
    private readonly primary: () => Promise<{ host: string; port: number } | null>,
    private readonly everyMs = 20,
    private readonly opts: { followMoves?: boolean } = {},
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    let conn: mysql.Connection | undefined;
    let at: string | undefined;
    while (!this.stopped) {
      const t0 = Date.now();
      try {
        const p = await this.primary();
        if (!p) throw new Error('no primary');
        const where = `${p.host}:${p.port}`;
        if (!conn || at !== where) {
          conn?.destroy();
          conn = undefined;
          conn = await mysql.createConnection({ host: p.host, port: p.port, user: APP_USER, password: APP_PASSWORD, connectTimeout: 1000 });
          conn.on('error', () => undefined);
          at = where;
        }
        const id = this.next++;
        const insert = conn.query({ sql: 'INSERT INTO app.writes (id, at) VALUES (?, ?)', values: [id, Date.now()], timeout: 15_000 });
        if (this.opts.followMoves) await this.unlessMoved(insert, where);
        else await insert;
        this.acked.push(id);
        this.ackTimes.push(Date.now());
      } catch {
        this.errors++;
        conn?.destroy();
        conn = undefined;
      }
      const wait = this.everyMs - (Date.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    conn?.destroy();
  }

  private async unlessMoved(write: Promise<unknown>, where: string): Promise<void> {
    write.catch(() => undefined); // given up: its outcome no longer matters to the client
    let settled = false;
    const moved = (async () => {
      while (!settled) {
        await new Promise((r) => setTimeout(r, 50));
        const p = await this.primary().catch(() => null);
        if (!settled && p && `${p.host}:${p.port}` !== where) throw new Error(`primary moved from ${where}`);
      }
    })();
    moved.catch(() => undefined);
    try {
      await Promise.race([write, moved]);
    } finally {
      settled = true;
    }
  }

  /** First acknowledged write after `t` (ms), or undefined. */
  firstAckAfter(t: number): number | undefined {
    return this.ackTimes.find((x) => x > t);
  }

  /** Longest gap between consecutive acknowledged writes within [from, to]. */
  longestGap(from: number, to: number): number {
    const times = this.ackTimes.filter((x) => x >= from && x <= to);
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
    return gap;
  }
}

/** Acknowledged ids missing from the instance. */
export async function missingWrites(i: { query<T>(sql: string): Promise<T> }, acked: number[]): Promise<number[]> {
  const rows = await i.query<Array<{ id: number }>>('SELECT id FROM app.writes');
  const have = new Set(rows.map((r) => Number(r.id)));
  return acked.filter((id) => !have.has(id));
}
