// Named database errors the routes turn into status codes.

/** No primary can take writes right now (down, or failover in progress): 503 with Retry-After. */
export class PrimaryUnavailableError extends Error {
  constructor(readonly primary: string | null, cause?: unknown) {
    super(primary ? `primary ${primary} is unavailable` : 'no primary is published', { cause });
    this.name = 'PrimaryUnavailableError';
  }
}

/** COMMIT was sent but no answer came (timeout, lost connection): the write may or may not have happened. */
export class WriteOutcomeUnknownError extends PrimaryUnavailableError {
  constructor(primary: string | null, cause?: unknown) {
    super(primary, cause);
    this.message = `the commit on primary ${primary ?? '(none)'} was not answered; the write may or may not have been saved`;
    this.name = 'WriteOutcomeUnknownError';
  }
}

/**
 * Redis (the topology channel) has been silent longer than the write stop bound: a failover may
 * have happened that this instance cannot hear about, so writing to the last known primary could
 * split the data. Reads go on.
 */
export class TopologyUnknownError extends PrimaryUnavailableError {
  constructor(readonly silentMs: number | null, readonly boundMs: number) {
    super(null);
    this.message = silentMs === null
      ? 'the topology has not been read from Redis yet; writes wait for it'
      : `no word from Redis for ${Math.round(silentMs / 1000)} s (bound ${boundMs / 1000} s): the primary may have changed, writes are stopped`;
    this.name = 'TopologyUnknownError';
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
