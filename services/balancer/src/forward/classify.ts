// What a failed backend attempt means: can it be retried elsewhere, does it count against the
// backend's health, and which page the client gets if it is the last attempt.
import type { BackendErrorKind } from './types.js';

export interface Failure {
  kind: BackendErrorKind | 'aborted';
  status: 502 | 503 | 504;
  /** The request certainly never reached the backend (refused, no route, pool closed). */
  neverSent: boolean;
  /** Counts as a passive health failure of the backend. */
  backendFault: boolean;
}

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
const POOL_GONE = new Set(['UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (typeof e?.code === 'string' && e.code !== 'UND_ERR_SOCKET') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return typeof e?.code === 'string' ? e.code : '';
}

export function classify(err: unknown): Failure {
  const code = codeOf(err);
  if (code === 'UND_ERR_ABORTED' || (err as Error | undefined)?.name === 'AbortError') return { kind: 'aborted', status: 502, neverSent: false, backendFault: false };
  if (POOL_GONE.has(code)) return { kind: 'connect', status: 502, neverSent: true, backendFault: false };
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'timeout', status: 504, neverSent: true, backendFault: true };
  if (NEVER_SENT.has(code)) return { kind: 'connect', status: 502, neverSent: true, backendFault: true };
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return { kind: 'timeout', status: 504, neverSent: false, backendFault: true };
  if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return { kind: 'protocol', status: 502, neverSent: false, backendFault: true };
  // ECONNRESET, EPIPE, UND_ERR_SOCKET ("other side closed"): the request may have been read.
  return { kind: 'connect', status: 502, neverSent: false, backendFault: true };
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** RFC 9110 §9.2.2 */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/**
 * A failed attempt may go to another backend when no response byte came back and either the
 * request certainly never left, or it is idempotent and its body (if any) can be sent again
 * (never started streaming).
 */
export function retryable(f: Failure, method: string, bodyStarted: boolean): boolean {
  // A streamed body that started cannot be replayed (it is not buffered).
  if (f.kind === 'aborted' || bodyStarted) return false;
  return f.neverSent || isIdempotent(method);
}

const RETRY_AFTER = 'retry-after';

/**
 * A backend answer with this status counts against the backend's health: only statuses the
 * operator listed (--fail-status, none by default: nginx and Envoy count connection errors and
 * timeouts only), and never a 503 with Retry-After. That one is the app saying "not now, come
 * back" (it sends it during a database failover, from every pod at once): the pod works and
 * ejecting it would only turn a short failover into a site-wide outage. `raw` is undici's flat
 * [name, value, ...] header list.
 */
export function statusCountsAsFailure(status: number, raw: readonly Buffer[], failStatuses: readonly number[]): boolean {
  if (failStatuses.length === 0 || !failStatuses.includes(status)) return false;
  if (status !== 503) return true;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === RETRY_AFTER.length && name.toString('latin1').toLowerCase() === RETRY_AFTER) return false;
  }
  return true;
}
