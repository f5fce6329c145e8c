// Idempotency keys in MySQL. claim() marks a key 'pending' for one owner (its own short transaction);
// complete() runs inside the write's transaction and stores the response, so the key and the write
// commit together, and a new primary after a failover holds both or neither. A write completes only
// a claim it still owns: a second request that took over an abandoned claim rolls the first back.
import { randomBytes } from 'node:crypto';
import type { Database } from './database.js';
import type { Sql } from './sql.js';
import { decideClaim, type StoredKey } from './idempotency-rules.js';

export interface StoredResponse {
  status: number;
  location?: string | undefined;
  body: unknown;
}

export interface IdempotencyTicket {
  scope: string;
  key: string;
  owner: string;
  /** Set once complete() ran in the write's transaction. */
  stored: boolean;
}

export type ClaimResult =
  | { kind: 'claimed'; ticket: IdempotencyTicket }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  | { kind: 'in-progress' };

/** The claim was taken over (its lease ran out) before this write could complete it. */
export class IdempotencyKeyLostError extends Error {
  constructor(readonly key: string) {
    super(`Idempotency-Key ${JSON.stringify(key)} was taken over by another request`);
    this.name = 'IdempotencyKeyLostError';
  }
}

interface Row {
  request_hash: string;
  state: 'pending' | 'done';
  owner: string;
  lease_over: number;
  expired: number;
  response_status: number | null;
  response: string | null;
}

export class IdempotencyStore {
  constructor(
    private readonly db: Database,
    private readonly ttlSeconds: number,
    /** How long a claim holds before another request may take it over: longer than any write can last. */
    private readonly leaseSeconds: number,
  ) {}

  async claim(scope: string, key: string, requestHash: string): Promise<ClaimResult> {
    // Two rounds cover a race with another request inserting the same key at the same moment.
    for (let round = 0; round < 3; round++) {
      const { result } = await this.db.write((sql) => this.claimOnce(sql, scope, key, requestHash));
      if (result) return result;
    }
    return { kind: 'in-progress' };
  }

  private async claimOnce(sql: Sql, scope: string, key: string, requestHash: string): Promise<ClaimResult | null> {
    // A plain (non-locking) read: a claim being completed holds the row lock, and waiting on it
    // would hold this request for as long as that write takes.
    const [row] = await sql.rows<Row>(
      `SELECT request_hash, state, owner, locked_until < NOW(3) AS lease_over, expires_at < NOW(3) AS expired, response_status, response
       FROM idempotency_keys WHERE scope = ? AND idem_key = ?`,
      [scope, key],
    );
    const stored: StoredKey | null = row ? { requestHash: row.request_hash, state: row.state, leaseOver: Number(row.lease_over) === 1, expired: Number(row.expired) === 1 } : null;
    const owner = randomBytes(16).toString('hex');
    const ticket: IdempotencyTicket = { scope, key, owner, stored: false };
    switch (decideClaim(stored, requestHash)) {
      case 'claim':
        // Keys of this scope past their expiry go as new ones come: no sweeper needed.
        await sql.exec('DELETE FROM idempotency_keys WHERE scope = ? AND expires_at < NOW(3) LIMIT 20', [scope]);
        try {
          await sql.exec(
            `INSERT INTO idempotency_keys (scope, idem_key, request_hash, state, owner, locked_until, expires_at)
             VALUES (?, ?, ?, 'pending', ?, NOW(3) + INTERVAL ? SECOND, NOW(3) + INTERVAL ? SECOND)`,
            [scope, key, requestHash, owner, this.leaseSeconds, this.ttlSeconds],
          );
        } catch (err) {
          if ((err as { errno?: number }).errno === 1062) return null; // inserted by another request just now
          throw err;
        }
        return { kind: 'claimed', ticket };
      case 'takeover': {
        const res = await sql.exec(
          `UPDATE idempotency_keys SET request_hash = ?, state = 'pending', owner = ?, response_status = NULL, response = NULL,
             locked_until = NOW(3) + INTERVAL ? SECOND, expires_at = NOW(3) + INTERVAL ? SECOND, created_at = NOW(3)
           WHERE scope = ? AND idem_key = ? AND owner = ? AND state = ?`,
          [requestHash, owner, this.leaseSeconds, this.ttlSeconds, scope, key, row!.owner, row!.state],
        );
        return res.affectedRows === 1 ? { kind: 'claimed', ticket } : null;
      }
      case 'replay': {
        const saved = JSON.parse(row!.response ?? '{}') as { location?: string; body?: unknown };
        return { kind: 'replay', response: { status: Number(row!.response_status), location: saved.location, body: saved.body ?? null } };
      }
      case 'mismatch':
        return { kind: 'mismatch' };
      case 'in-progress':
        return { kind: 'in-progress' };
    }
  }

  /** Inside the write's transaction: stores the response; throws (rolling the write back) if the claim was lost. */
  async complete(sql: Sql, ticket: IdempotencyTicket, response: StoredResponse): Promise<void> {
    const res = await sql.exec(
      `UPDATE idempotency_keys SET state = 'done', response_status = ?, response = ?, locked_until = NOW(3)
       WHERE scope = ? AND idem_key = ? AND owner = ? AND state = 'pending'`,
      [response.status, JSON.stringify({ location: response.location, body: response.body }), ticket.scope, ticket.key, ticket.owner],
    );
    if (res.affectedRows !== 1) throw new IdempotencyKeyLostError(ticket.key);
    ticket.stored = true;
  }

  /** Gives up a claim whose write is known not to have happened, so a retry can run at once. */
  async release(ticket: IdempotencyTicket): Promise<void> {
    await this.db.write((sql) => sql.exec("DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND owner = ? AND state = 'pending'", [ticket.scope, ticket.key, ticket.owner]));
  }
}
