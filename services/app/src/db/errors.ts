// Named database errors the routes turn into status codes.

/** No primary can take writes right now (down, or failover in progress): 503 with Retry-After. */
export class PrimaryUnavailableError extends Error {
  constructor(readonly primary: string | null, cause?: unknown) {
    super(primary ? `primary ${primary} is unavailable` : 'no primary is published', { cause });
    this.name = 'PrimaryUnavailableError';
  }
}

/** Neither a replica nor the primary answered a read. */
export class DatabaseUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('no MySQL server answered the read', { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', 'POOL_CLOSED',
]);

/** True when the server or the connection failed, as opposed to the statement being wrong. */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; fatal?: unknown; message?: unknown };
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  if (e.fatal === true) return true;
  return typeof e.message === 'string' && /Pool is closed|connect ETIMEDOUT|Connection lost/i.test(e.message);
}

/** The server refuses writes because it is read-only: it was demoted (1290, 1836). */
export function isReadOnlyError(err: unknown): boolean {
  const errno = (err as { errno?: unknown } | null)?.errno;
  return errno === 1290 || errno === 1836;
}
