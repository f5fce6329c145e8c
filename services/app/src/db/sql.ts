// Running statements on a pool or a connection with bound parameters, and a timeout helper.
import type mysql from 'mysql2/promise';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

/** Something to run statements on: a pool or one connection. Parameters are always bound. */
export interface Sql {
  rows<T = RowDataPacket>(sql: string, params?: unknown[]): Promise<T[]>;
  exec(sql: string, params?: unknown[]): Promise<ResultSetHeader>;
}

/**
 * With `timeoutMs`, every statement fails with PROTOCOL_SEQUENCE_TIMEOUT when the server has not
 * answered in time (a hung server never answers, so only a client-side timer can end the wait).
 * mysql2 leaves the timed-out command queued on the connection: the caller must destroy it, so a
 * timeout is only safe on a single connection the caller owns, never on a pool.
 */
export function wrap(q: Pool | PoolConnection | mysql.Connection, timeoutMs?: number): Sql {
  const opts = (sql: string): mysql.QueryOptions => (timeoutMs ? { sql, timeout: timeoutMs } : { sql });
  return {
    async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      const [rows] = await q.query<RowDataPacket[]>(opts(sql), params);
      return rows as unknown as T[];
    },
    async exec(sql: string, params: unknown[] = []): Promise<ResultSetHeader> {
      const [res] = await q.query<ResultSetHeader>(opts(sql), params);
      return res;
    },
  };
}

export { withTimeout } from '@dramble/lib';
