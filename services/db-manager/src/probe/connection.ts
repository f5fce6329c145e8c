// Opening MySQL connections with the manager's credentials and hard timeouts: a probe or a
// recovery step never waits on a dead host longer than it was told to.
import mysql from 'mysql2/promise';
import { withTimeout as withDeadline } from '@dramble/lib';

// mysql2 sizes two caches for busy applications, and both are preallocated arrays: the row-parser cache
// (15000 entries, ~0.5 MB, once) and the prepared-statement cache of every connection (16000 entries,
// ~0.5 MB per connection). The manager never prepares statements (query(), not execute()) and runs a
// few dozen distinct statements, so a tiny statement cache and a small parser cache keep a probe
// connection at a few kB and keep recovery, which opens fresh connections, from churning the heap.
const PARSER_CACHE_ENTRIES = 256;
const PREPARED_STATEMENTS = 1;
// mysql2 captures a stack trace on every query (trace: true) to decorate errors; the manager reports
// errors by code and message, and the capture was a tenth of what a probe round allocates.
const TRACE_QUERIES = false;
mysql.setMaxParserCache(PARSER_CACHE_ENTRIES);

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
    mysql.createConnection({ host: t.host, port: t.port, user: creds.user, password: creds.password, connectTimeout: timeoutMs, multipleStatements: false, supportBigNumbers: true, maxPreparedStatements: PREPARED_STATEMENTS, trace: TRACE_QUERIES }),
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
