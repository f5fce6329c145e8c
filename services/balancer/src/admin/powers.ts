// Which bearer token grants which admin power. Purging the cache and draining backends are separate
// powers with separate tokens: every app pod holds the purge token (an edit purges the pages it
// changed), so that token must not also let a compromised app take backends out of rotation.
import type { IncomingMessage } from 'node:http';
import { checkBearerToken } from '@dramble/lib';

export type AdminPower = 'purge' | 'drain';

/** The configured token of each power; undefined = that power is disabled. */
export type AdminTokens = Record<AdminPower, string | undefined>;

const FLAG: Record<AdminPower, string> = { purge: '--purge-token', drain: '--drain-token' };
const WHAT: Record<AdminPower, string> = { purge: 'cache purges are', drain: 'drain and undrain are' };

export type Refusal = { status: 401 | 403; error: string };

/**
 * Undefined when the request's bearer token grants `power`, else the refusal to answer with:
 * 401 when no token is configured for the power (the power is off), when the header is missing, or
 * when the token is unknown; 403 when the token is valid but for the other power (the caller is
 * known, the call is not theirs to make).
 */
export function refusal(req: IncomingMessage, power: AdminPower, tokens: AdminTokens): Refusal | undefined {
  const check = checkBearerToken(req, tokens[power]);
  if (check === 'ok') return undefined;
  if (check === 'unconfigured') return { status: 401, error: `no ${power} token is configured (${FLAG[power]}); ${WHAT[power]} disabled` };
  if (check === 'missing') return { status: 401, error: 'missing bearer token' };
  const other: AdminPower = power === 'purge' ? 'drain' : 'purge';
  if (checkBearerToken(req, tokens[other]) === 'ok') return { status: 403, error: `this token grants ${other}, not ${power}` };
  return { status: 401, error: 'invalid bearer token' };
}

/**
 * The power a request needs, from its method and path alone (the same routes as admin/routes.ts and
 * cache/admin.ts); undefined for reads and unknown paths. The cluster primary uses it to refuse a bad
 * token itself, before it buffers the body and asks every worker.
 */
export function powerFor(method: string, path: string): AdminPower | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/api/cache/purge') return 'purge';
  if (/^\/api\/backends\/[^/]+\/(drain|undrain)$/.test(path)) return 'drain';
  return undefined;
}
