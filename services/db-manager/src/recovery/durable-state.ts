// The manager's memory that must survive a restart or a change of leader: current primary, epoch,
// quarantine list, errant GTIDs, last failover. Kept in dramble_meta.manager_state on the primary
// (binlogged, so every replica has a copy and a new leader finds it wherever it looks); a reader
// takes the highest version among the instances it can reach.
import { META_SCHEMA } from '../probe/heartbeat.js';
import { errorText, run, withConnection, type Credentials, type Target } from '../probe/connection.js';

export const STATE_TABLE = `${META_SCHEMA}.manager_state`;
export const CREATE_STATE_SQL = [
  `CREATE DATABASE IF NOT EXISTS ${META_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, version BIGINT UNSIGNED NOT NULL, state LONGTEXT NOT NULL, ` +
    'written_by VARCHAR(255) NOT NULL, lease_generation BIGINT NOT NULL, written_at BIGINT NOT NULL) ENGINE=InnoDB',
];

/** Row 1 is written on the primary and replicates; row 2 holds a promotion intent, local to the candidate. */
const STATE_ROW = 1;
const INTENT_ROW = 2;

export interface ManagerState {
  primaryId: string | null;
  epoch: number;
  quarantined: Record<string, string>;
  errantGtids: Record<string, string[]>;
  lastFailoverAt: number | null;
}

export interface StoredState extends ManagerState {
  version: number;
  /** Where it was read from (the instance with the newest copy). */
  source: string;
  writtenBy: string;
  leaseGeneration: number;
}

export interface StateStoreOptions {
  creds: Credentials;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

/** The newest copy among the reachable instances (null when none has one: a fresh cluster), and how many answered. */
export async function loadDurableState(o: StateStoreOptions, targets: Target[]): Promise<{ newest: StoredState | null; answered: number }> {
  const copies = await Promise.all(targets.map((t) => readCopy(o, t).then((c) => ({ c }), () => undefined)));
  let newest: StoredState | null = null;
  for (const x of copies) if (x?.c && (newest === null || x.c.version > newest.version)) newest = x.c;
  return { newest, answered: copies.filter((x) => x !== undefined).length };
}

async function readCopy(o: StateStoreOptions, t: Target): Promise<StoredState | null> {
  return withConnection(t, o.creds, o.connectTimeoutMs, async (c) => {
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await run(c, `SELECT version, state, written_by, lease_generation FROM ${STATE_TABLE} WHERE id IN (?, ?) ORDER BY version DESC LIMIT 1`, [STATE_ROW, INTENT_ROW], o.statementTimeoutMs);
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno === 1146 || errno === 1049) return null; // no table yet: never written here
      throw err;
    }
    const row = rows[0];
    if (!row) return null;
    const parsed = parseState(String(row['state']));
    if (!parsed) return null;
    return { ...parsed, version: Number(row['version']), source: t.id, writtenBy: String(row['written_by']), leaseGeneration: Number(row['lease_generation']) };
  });
}

/** Validates a stored copy field by field: a hand-edited or truncated row is ignored, not trusted. */
export function parseState(text: string): ManagerState | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const primaryId = typeof o['primaryId'] === 'string' ? o['primaryId'] : null;
  const epoch = Number.isSafeInteger(o['epoch']) ? (o['epoch'] as number) : 0;
  const quarantined: Record<string, string> = {};
  if (typeof o['quarantined'] === 'object' && o['quarantined'] !== null) {
    for (const [k, r] of Object.entries(o['quarantined'] as Record<string, unknown>)) if (typeof r === 'string') quarantined[k] = r;
  }
  const errantGtids: Record<string, string[]> = {};
  if (typeof o['errantGtids'] === 'object' && o['errantGtids'] !== null) {
    for (const [k, g] of Object.entries(o['errantGtids'] as Record<string, unknown>)) if (Array.isArray(g)) errantGtids[k] = g.filter((x): x is string => typeof x === 'string');
  }
  const lastFailoverAt = typeof o['lastFailoverAt'] === 'number' ? o['lastFailoverAt'] : null;
  return { primaryId, epoch, quarantined, errantGtids, lastFailoverAt };
}

/**
 * Writes the state on the primary. Only where read_only is off (the manager's user bypasses it, and a
 * copy landing on a fenced old primary would be an errant transaction), and never over a newer version.
 * Returns false when the row was not written (read-only instance or a newer version already there).
 */
export async function saveDurableState(o: StateStoreOptions, primary: Target, state: ManagerState, meta: { version: number; writtenBy: string; leaseGeneration: number; intent?: boolean }): Promise<boolean> {
  return withConnection(primary, o.creds, o.connectTimeoutMs, async (c) => {
    // An intent ("this replica is about to be promoted") goes on the still read-only candidate, outside
    // the binlog and in its own row: it adds no GTID there, leaves the replicated row 1 identical on every
    // instance (row-based updates of it must find the same row everywhere), and the first ordinary write
    // after the promotion supersedes it by version.
    if (meta.intent) await run(c, 'SET SESSION sql_log_bin = 0', [], o.statementTimeoutMs);
    const guard = meta.intent ? '' : 'WHERE @@global.read_only = 0 ';
    const sql =
      `INSERT INTO ${STATE_TABLE} (id, version, state, written_by, lease_generation, written_at) SELECT ?, ?, ?, ?, ?, ? FROM DUAL ${guard}` +
      // Assignments run left to right: version last, so the others still compare against the old one.
      'ON DUPLICATE KEY UPDATE state = IF(VALUES(version) > version, VALUES(state), state), written_by = IF(VALUES(version) > version, VALUES(written_by), written_by), ' +
      'lease_generation = IF(VALUES(version) > version, VALUES(lease_generation), lease_generation), written_at = IF(VALUES(version) > version, VALUES(written_at), written_at), ' +
      'version = GREATEST(version, VALUES(version))';
    const params = [meta.intent ? INTENT_ROW : STATE_ROW, meta.version, JSON.stringify(state), meta.writtenBy, meta.leaseGeneration, Date.now()];
    let r: unknown;
    try {
      [r] = await c.query({ sql, values: params, timeout: o.statementTimeoutMs });
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno !== 1146 && errno !== 1049) throw new Error(`writing the manager state on ${primary.id} failed: ${errorText(err)}`);
      // Never created on a replica (intent): a table only it had would break replication of the first
      // binlogged write to it. The schema comes from the primary, through the binlog.
      if (meta.intent) return false;
      for (const s of CREATE_STATE_SQL) await run(c, s, [], o.statementTimeoutMs);
      [r] = await c.query({ sql, values: params, timeout: o.statementTimeoutMs });
    }
    // affectedRows: 1 inserted, 2 updated, 0 nothing (read-only, or equal values).
    return Number((r as { affectedRows?: number }).affectedRows ?? 0) > 0;
  });
}

/** Compares the parts that matter, so the state is written only when something changed. */
export function stateSignature(s: ManagerState): string {
  const sortObj = <T>(o: Record<string, T>): Array<[string, T]> => Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([s.primaryId, s.epoch, sortObj(s.quarantined), sortObj(s.errantGtids), s.lastFailoverAt]);
}
