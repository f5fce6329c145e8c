// Why a write was refused or left undecided, as the label the writes-refused metric and the
// read-only banner use. Pure: it looks only at the named errors from db/errors.ts and their causes.
import { PrimaryUnavailableError, TopologyUnknownError, WriteOutcomeUnknownError } from './errors.js';

export const WRITE_REFUSAL_REASONS = ['no-primary', 'redis-silent', 'timeout', 'outcome-unknown'] as const;
export type WriteRefusalReason = (typeof WRITE_REFUSAL_REASONS)[number];

// mysql2's client-side statement timeout, and a connect that got no answer (a hung or cut-off host).
const TIMEOUT_CODES = new Set(['PROTOCOL_SEQUENCE_TIMEOUT', 'ETIMEDOUT']);

function isTimeout(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  return (typeof e.code === 'string' && TIMEOUT_CODES.has(e.code)) || (typeof e.message === 'string' && /connect ETIMEDOUT/.test(e.message));
}

/**
 * The reason for a refused write, or null when `err` is not a refusal (a conflict, a bad row...).
 * Order matters: the outcome-unknown and Redis-silence errors are PrimaryUnavailableErrors too.
 */
export function writeRefusalReason(err: unknown): WriteRefusalReason | null {
  if (err instanceof WriteOutcomeUnknownError) return 'outcome-unknown';
  if (err instanceof TopologyUnknownError) return 'redis-silent';
  if (err instanceof PrimaryUnavailableError) return isTimeout(err.cause) ? 'timeout' : 'no-primary';
  return null;
}
