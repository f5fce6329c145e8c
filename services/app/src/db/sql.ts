// Running statements on a pool or a connection with bound parameters, and a timeout helper.
import type mysql from 'mysql2/promise';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

/** Something to run statements on: a pool or one connection. Parameters are always bound. */
export interface Sql {
  rows<T = RowDataPacket>(sql: string, params?: unknown[]): Promise<T[]>;
  exec(sql: string, params?: unknown[]): Promise<ResultSetHeader>;
}

export function wrap(q: Pool | PoolConnection | mysql.Connection): Sql {
  return {
    async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      const [rows] = await q.query<RowDataPacket[]>(sql, params);
      return rows as unknown as T[];
    },
    async exec(sql: string, params: unknown[] = []): Promise<ResultSetHeader> {
      const [res] = await q.query<ResultSetHeader>(sql, params);
      return res;
    },
  };
}

export { withTimeout } from '@dramble/lib';
