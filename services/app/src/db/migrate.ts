// Versioned schema migrations applied at start under a MySQL named lock, so that instances starting
// together apply each one exactly once. SQL files live in ./migrations (NNN_name.sql) and are embedded
// into the build (scripts/embed-migrations.mjs); the starter site is a code migration because its
// Markdown is rendered by the app.
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import type { Logger } from '@dramble/lib';
import { wrap, type Sql } from './database.js';
import type { Credentials } from './mysql-url.js';
import type { Endpoint } from './topology.js';
import { seedStarterSite } from '../content/seed.js';
import { EMBEDDED_MIGRATIONS } from './migrations/embedded.js';

export interface Migration {
  version: number;
  name: string;
  run(sql: Sql, conn: mysql.Connection): Promise<void>;
}

export class MigrationLockError extends Error {
  constructor(readonly lock: string, readonly waitedSeconds: number) {
    super(`could not take migration lock ${lock} within ${waitedSeconds} s (another instance is migrating)`);
    this.name = 'MigrationLockError';
  }
}

/** The SQL migrations, from the copy embedded in the build (the .sql files are its source). */
export function loadMigrations(): Migration[] {
  const files: Migration[] = EMBEDDED_MIGRATIONS.map(({ file, sql }) => ({
    version: Number(file.split('_')[0]),
    name: file.replace(/\.sql$/, ''),
    run: async (_sql: Sql, conn: mysql.Connection) => {
      await conn.query(sql);
    },
  }));
  const code: Migration[] = [{ version: 2, name: '002_starter_site', run: (sql) => seedStarterSite(sql) }];
  const all = [...files, ...code].sort((a, b) => a.version - b.version);
  for (let i = 1; i < all.length; i++) {
    if (all[i]!.version === all[i - 1]!.version) throw new Error(`two migrations share version ${all[i]!.version}`);
  }
  return all;
}

export function latestVersion(migrations = loadMigrations()): number {
  return migrations.reduce((m, x) => Math.max(m, x.version), 0);
}

export interface MigrateResult {
  version: number;
  applied: string[];
}

/** Creates the database if needed and applies every pending migration under GET_LOCK. */
export async function migrate(opts: { endpoint: Endpoint; credentials: Credentials; logger: Logger; lockWaitSeconds?: number }): Promise<MigrateResult> {
  const { endpoint, credentials, logger } = opts;
  const migrations = loadMigrations();
  const conn = await mysql.createConnection({
    host: endpoint.host, port: endpoint.port, user: credentials.user, password: credentials.password,
    multipleStatements: true, connectTimeout: 5000, charset: 'utf8mb4_unicode_ci', timezone: 'Z',
  });
  const sql = wrap(conn);
  const db = mysql.escapeId(credentials.database);
  const lock = `dramble_app_migrate:${credentials.database}`.slice(0, 64);
  const wait = opts.lockWaitSeconds ?? 120;
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await conn.query(`USE ${db}`);
    const [got] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS l', [lock, wait]);
    if (Number(got[0]?.['l']) !== 1) throw new MigrationLockError(lock, wait);
    try {
      await conn.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB',
      );
      const done = new Set((await sql.rows<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        logger.info({ migration: m.name }, 'applying migration');
        await m.run(sql, conn);
        await sql.exec('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [m.version, m.name]);
        applied.push(m.name);
      }
      const version = Math.max(0, ...done, ...migrations.filter((m) => applied.includes(m.name)).map((m) => m.version));
      return { version, applied };
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
    }
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** The applied schema version, read for /readyz. */
export async function schemaVersion(sql: Sql): Promise<number> {
  const rows = await sql.rows<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return Number(rows[0]?.v ?? 0);
}
