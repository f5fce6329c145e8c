// Opening MySQL connections with the manager's credentials and hard timeouts: a probe or a
// recovery step never waits on a dead host longer than it was told to.
import mysql from 'mysql2/promise';
import { withTimeout as withDeadline } from '@dramble/lib';

export interface Target {
  id: string;
  host: string;
  port: number;
}

export interface Credentials {
  user: string;
  password: string;
}

export type Connection = mysql.Connection;

export async function openConnection(t: Target, creds: Credentials, timeoutMs: number): Promise<Connection> {
  const conn = await withDeadline(
    mysql.createConnection({ host: t.host, port: t.port, user: creds.user, password: creds.password, connectTimeout: timeoutMs, multipleStatements: false, supportBigNumbers: true }),
    timeoutMs,
    `connect to ${t.id} timed out after ${timeoutMs} ms`,
  );
  conn.on('error', () => undefined); // a dropped connection is noticed by the next query
  return conn;
}

/** Runs one statement with a timeout; rows as plain objects. */
export async function run<T = Record<string, unknown>>(conn: Connection, sql: string, params: unknown[] = [], timeoutMs = 5000): Promise<T[]> {
  const [rows] = await conn.query({ sql, values: params, timeout: timeoutMs });
  return (Array.isArray(rows) ? rows : []) as T[];
}

export async function withConnection<T>(t: Target, creds: Credentials, timeoutMs: number, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await openConnection(t, creds, timeoutMs);
  try {
    return await fn(conn);
  } finally {
    conn.destroy();
  }
}

export { withDeadline };

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
