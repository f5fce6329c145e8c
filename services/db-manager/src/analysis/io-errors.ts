// Which stopped IO threads the manager may simply start again. A replica whose source restarted
// while its IO thread was (re)connecting can stop with a network error instead of retrying; that
// heals with START SLAVE once the source answers. Everything else (SQL thread errors, 1236 "binlog
// the replica needs is gone", bad credentials, equal server ids) needs a person.
import type { ReplicationStatus } from '../flavor/types.js';

/**
 * IO thread errors caused by the network or by the source going away: MariaDB's own list
 * (is_network_error() in sql/slave.cc: these it normally retries itself) plus the other net
 * read/write errors (MySQL adds 1161) and 2005 (a restarting pod's DNS name is briefly unknown).
 */
export const TRANSIENT_IO_ERRNOS: ReadonlyMap<number, string> = new Map([
  [1040, 'ER_CON_COUNT_ERROR (too many connections on the source)'],
  [1053, 'ER_SERVER_SHUTDOWN (the source is shutting down)'],
  [1158, 'ER_NET_READ_ERROR'],
  [1159, 'ER_NET_READ_INTERRUPTED'],
  [1160, 'ER_NET_ERROR_ON_WRITE'],
  [1161, 'ER_NET_WRITE_INTERRUPTED'],
  [1184, 'ER_NEW_ABORTING_CONNECTION'],
  [1927, 'ER_CONNECTION_KILLED'],
  [2002, "CR_CONNECTION_ERROR (can't connect through the socket)"],
  [2003, "CR_CONN_HOST_ERROR (can't connect)"],
  [2005, 'CR_UNKNOWN_HOST'],
  [2006, 'CR_SERVER_GONE_ERROR (server has gone away)'],
  [2013, 'CR_SERVER_LOST (lost connection during a query)'],
]);

export function transientIoError(errno: number): boolean {
  return TRANSIENT_IO_ERRNOS.has(errno);
}

/** Only the IO thread stopped, on a network error, with the SQL thread free of errors: START SLAVE heals it. */
export function restartableIoStop(r: ReplicationStatus): boolean {
  return r.ioRunning === 'No' && r.lastIoErrno !== 0 && transientIoError(r.lastIoErrno) && r.lastSqlErrno === 0;
}

/** The manager's memory of restarts of one replica since it last replicated. */
export interface RestartHistory {
  attempts: number;
  lastAt: number;
}

export const RESTART_BACKOFF_FIRST_MS = 2_000;
export const RESTART_BACKOFF_MAX_MS = 60_000;

/**
 * The wait before the next restart: none for the first, then 2 s, 4 s, 8 s ... up to a minute, so a
 * source that keeps refusing is not hammered and its log not flooded with one reconnect per probe.
 */
export function restartDelayMs(attempts: number): number {
  if (attempts <= 0) return 0;
  return Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_FIRST_MS * 2 ** (attempts - 1));
}

/** Milliseconds until the next restart may run (0: now). */
export function restartWaitMs(h: RestartHistory | undefined, now: number): number {
  if (!h) return 0;
  return Math.max(0, h.lastAt + restartDelayMs(h.attempts) - now);
}

/** History after one more restart at `now`. */
export function afterRestart(h: RestartHistory | undefined, now: number): RestartHistory {
  return { attempts: (h?.attempts ?? 0) + 1, lastAt: now };
}
