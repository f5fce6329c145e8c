// Helpers for the db-manager tests: start a manager on test servers, wait for a condition, and
// read topology through the real API.
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig } from '@dramble/lib';
import { settings, startManager, type DbManagerConfig, type RunningManager, type TopologyView } from '@dramble/db-manager';
import type { ManagerStartDeps } from '../../../services/db-manager/src/index.js';
import { REPLICATION_PASSWORD, REPLICATION_USER, type MariaDBInstance } from '../../support/index.js';

export const TOKEN = 'test-admin-token';

export function idOf(i: { host: string; port: number }): string {
  return `${i.host}:${i.port}`;
}

export function testConfig(instances: string[], overrides: Partial<DbManagerConfig> = {}): DbManagerConfig {
  const base = loadConfig(settings, { argv: [], env: {} });
  return {
    ...base,
    instances,
    replicationUser: REPLICATION_USER,
    replicationPassword: REPLICATION_PASSWORD,
    admin: { host: '127.0.0.1', port: 0 },
    adminToken: TOKEN,
    // Re-seeding is on by default: a test's errant exports go to the temp dir, never into the repo.
    errantExportDir: join(tmpdir(), 'dramble-test-errant'),
    ...overrides,
  };
}

/** Starts a manager in-process; logs go to a file named after the test when DBM_TEST_LOG is set. */
export async function startTestManager(instances: Array<{ host: string; port: number } | string>, overrides: Partial<DbManagerConfig> = {}, deps: ManagerStartDeps = {}): Promise<RunningManager> {
  const ids = instances.map((i) => (typeof i === 'string' ? i : idOf(i)));
  const logFile = process.env['DBM_TEST_LOG'];
  const logger = createLogger({ name: 'db-manager', level: logFile ? 'debug' : 'silent', ...(logFile ? { destination: createWriteStream(logFile, { flags: 'a' }) } : {}) });
  return startManager(testConfig(ids, overrides), { logger, ...deps });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ''}`);
}

export async function topology(m: RunningManager): Promise<TopologyView> {
  const res = await fetch(`${m.adminUrl}/api/topology`);
  if (res.status !== 200) throw new Error(`GET /api/topology: ${res.status}`);
  return (await res.json()) as TopologyView;
}

export async function post(m: RunningManager, path: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(`${m.adminUrl}${path}`, { method: 'POST', headers, body: body === undefined ? '{}' : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function replicaSource(i: MariaDBInstance): Promise<{ port: number; io: string; sql: string; sqlError: string } | null> {
  const rows = await i.query<Array<Record<string, unknown>>>('SHOW SLAVE STATUS');
  const r = rows[0];
  if (!r) return null;
  return { port: Number(r['Master_Port']), io: String(r['Slave_IO_Running']), sql: String(r['Slave_SQL_Running']), sqlError: String(r['Last_SQL_Error'] ?? '') };
}

export async function gtidBinlogPos(i: MariaDBInstance): Promise<string> {
  const rows = await i.query<Array<{ p: string }>>('SELECT @@gtid_binlog_pos AS p');
  return String(rows[0]?.p ?? '');
}

/** Waits until every replica has applied the given primary's current binlog position. */
export async function syncFrom(primary: MariaDBInstance, replicas: MariaDBInstance[], timeoutMs = 20_000): Promise<void> {
  const pos = await gtidBinlogPos(primary);
  for (const r of replicas) {
    const [row] = await r.query<Array<{ r: number }>>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [pos, timeoutMs / 1000]);
    if (Number(row?.r) !== 0) throw new Error(`${idOf(r)} did not reach ${pos} within ${timeoutMs} ms`);
  }
}
