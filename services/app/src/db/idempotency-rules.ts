// Pure rules of the Idempotency-Key header: which keys are acceptable, what makes two requests
// "the same", and what a stored key means for a new request carrying it.
import { createHash } from 'node:crypto';

/** Visible ASCII, no spaces: Node joins repeated headers with ", ", so a repeated key is refused too. */
const KEY_RE = /^[\x21-\x7e]{1,255}$/;

export type ParsedKey = { key: string } | { error: string } | undefined;

/** undefined when the request carries no key (it runs as before, without replay protection). */
export function parseIdempotencyKey(header: string | string[] | undefined): ParsedKey {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !KEY_RE.test(header)) return { error: 'Idempotency-Key must be one value of 1 to 255 visible ASCII characters' };
  return { key: header };
}

/** Method, target and the exact body bytes: a retry sends the same bytes, anything else is a different request. */
export function requestHash(method: string, target: string, body: Buffer | undefined): string {
  return createHash('sha256').update(`${method.toUpperCase()} ${target}\n`).update(body ?? Buffer.alloc(0)).digest('hex');
}

/** What the database holds for a key, as seen by the primary's clock. */
export interface StoredKey {
  requestHash: string;
  state: 'pending' | 'done';
  /** The claim's lease ran out: its request crashed or is stuck past every bound a write has. */
  leaseOver: boolean;
  expired: boolean;
}

export type ClaimDecision = 'claim' | 'takeover' | 'replay' | 'mismatch' | 'in-progress';

export function decideClaim(stored: StoredKey | null, requestHash: string): ClaimDecision {
  if (!stored) return 'claim';
  if (stored.expired) return 'takeover'; // an expired key no longer means anything, whatever its body
  if (stored.requestHash !== requestHash) return 'mismatch';
  if (stored.state === 'done') return 'replay';
  // Taking over an abandoned claim is safe: the write completes a key only while it still owns it.
  return stored.leaseOver ? 'takeover' : 'in-progress';
}
