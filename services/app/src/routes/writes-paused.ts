// What the site tells people when writes cannot be made, in one place: the read-only banner
// (by why writes are paused now) and the answer to a write that was refused or left undecided.
import { TopologyUnknownError, WriteOutcomeUnknownError } from '../db/errors.js';

export const BANNER_TEXT = {
  'no-primary': 'The database is failing over: the site is read-only for a moment, and editing is paused.',
  // Writing while deaf to the db-manager could split the data (ARCHITECTURE.md, fault model).
  'redis-silent': 'This server cannot hear the database manager right now (Redis is not answering), so it cannot tell whether the database has failed over: the site is read-only for a moment, and editing is paused.',
} as const;

export interface RefusalText {
  error: string;
  /** For API clients. */
  api: string;
  /** For people, on the editor's pages. */
  html: string;
}

export const OUTCOME_UNKNOWN: RefusalText = {
  error: 'outcome unknown',
  api: 'The database did not answer the commit in time, so the outcome is unknown: the change may or may not have been saved. Do not send it as a new request: retry with the same Idempotency-Key to get the first request\'s answer (without one, read the item first to see whether it was saved).',
  html: 'The database did not confirm this change in time, so it may have been saved. Check the editor list or the page before submitting again.',
};

export const REDIS_SILENT: RefusalText = {
  error: 'read-only',
  api: 'Writes are paused: this server cannot hear the database manager (Redis is not answering), so a failover could go unnoticed. Nothing was saved; retry shortly.',
  html: 'Nothing was saved: this server cannot hear the database manager right now (Redis is not answering), so writing could go to a database that is no longer the primary. Please retry in a moment.',
};

export const FAILING_OVER: RefusalText = {
  error: 'read-only',
  api: 'The database is failing over; changes cannot be saved for a moment. Nothing was saved; please retry shortly.',
  html: 'Nothing was saved: the database is failing over, so changes cannot be saved for a moment. Please retry shortly.',
};

/** The text for a refused write (a PrimaryUnavailableError or one of its kinds). */
export function refusalText(err: unknown): RefusalText {
  if (err instanceof WriteOutcomeUnknownError) return OUTCOME_UNKNOWN;
  if (err instanceof TopologyUnknownError) return REDIS_SILENT;
  return FAILING_OVER;
}
