// A MariaDB server from the machine's own binaries, with its data under the cluster dir so it
// survives `dramble down` / `dramble up`. The system tables are installed once into a template
// dir (mariadb-install-db is the slow part) and copied for each instance.
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import type { Credentials } from '../state.js';

const run = promisify(execFile);

export const MARIADB_PACKAGE = 'mariadb-server';

export interface MariaDBBinaries {
  mariadbd: string;
  installDb: string;
}

function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((c) => existsSync(c));
}

export function findMariaDB(): MariaDBBinaries | undefined {
  const mariadbd = firstExisting(['/usr/sbin/mariadbd', '/usr/bin/mariadbd', '/usr/local/sbin/mariadbd', '/usr/local/bin/mariadbd', '/usr/sbin/mysqld']);
  const installDb = firstExisting(['/usr/bin/mariadb-install-db', '/usr/local/bin/mariadb-install-db', '/usr/bin/mysql_install_db', '/usr/scripts/mariadb-install-db']);
  return mariadbd && installDb ? { mariadbd, installDb } : undefined;
}

const osUser = process.getuid?.() === 0 ? 'root' : userInfo().username;

/** Creates the data dir from the template unless it exists. Returns true when it was created. */
export async function ensureDatadir(bin: MariaDBBinaries, templateDir: string, datadir: string): Promise<boolean> {
  if (existsSync(join(datadir, 'mysql'))) return false;
  if (!existsSync(join(templateDir, '.complete'))) {
    rmSync(templateDir, { recursive: true, force: true });
    mkdirSync(templateDir, { recursive: true });
    await run(
      bin.installDb,
      ['--no-defaults', `--datadir=${templateDir}`, `--user=${osUser}`, '--skip-test-db', '--skip-name-resolve', '--auth-root-authentication-method=socket'],
      { timeout: 180_000 },
    );
    writeFileSync(join(templateDir, '.complete'), 'ok\n');
  }
  rmSync(datadir, { recursive: true, force: true });
  cpSync(templateDir, datadir, { recursive: true });
  rmSync(join(datadir, '.complete'), { force: true });
  return true;
}

function q(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * SQL run by mariadbd at every start, before it accepts connections: the users the db-manager,
 * replication and the app log in with, and the site database. Not binlogged (sql_log_bin=0): they
 * exist on every server independently, so they never become GTIDs that differ between servers.
 */
export function initSql(c: Credentials, database: string): string {
  const lines = ['SET sql_log_bin=0;'];
  for (const host of ['127.0.0.1', 'localhost', '%']) {
    lines.push(
      `CREATE USER IF NOT EXISTS ${q(c.mysqlUser)}@${q(host)} IDENTIFIED BY ${q(c.mysqlPassword)};`,
      `ALTER USER ${q(c.mysqlUser)}@${q(host)} IDENTIFIED BY ${q(c.mysqlPassword)};`,
      `GRANT ALL PRIVILEGES ON *.* TO ${q(c.mysqlUser)}@${q(host)} WITH GRANT OPTION;`,
      `CREATE USER IF NOT EXISTS ${q(c.appUser)}@${q(host)} IDENTIFIED BY ${q(c.appPassword)};`,
      `ALTER USER ${q(c.appUser)}@${q(host)} IDENTIFIED BY ${q(c.appPassword)};`,
      `GRANT ALL PRIVILEGES ON \`${database}\`.* TO ${q(c.appUser)}@${q(host)};`,
      `GRANT REPLICATION CLIENT, SLAVE MONITOR ON *.* TO ${q(c.appUser)}@${q(host)};`,
    );
  }
  lines.push(
    `CREATE USER IF NOT EXISTS ${q(c.replicationUser)}@'%' IDENTIFIED BY ${q(c.replicationPassword)};`,
    `ALTER USER ${q(c.replicationUser)}@'%' IDENTIFIED BY ${q(c.replicationPassword)};`,
    `GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO ${q(c.replicationUser)}@'%';`,
    `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
    '',
  );
  return lines.join('\n');
}

export interface MariaDBArgsOptions {
  base: string;
  port: number;
  serverId: number;
  readOnly: boolean;
}

/**
 * What every mariadbd we start shares, the local cluster's and the tests' alike: its files under
 * `base` (data/, mysqld.sock, init.sql, ...), loopback only, binlog + GTID as the db-manager needs,
 * and the small-machine settings. Callers add their buffer sizes and anything of their own.
 */
export function mariadbCoreArgs(base: string, port: number, serverId: number): string[] {
  return [
    '--no-defaults',
    `--datadir=${join(base, 'data')}`,
    `--socket=${join(base, 'mysqld.sock')}`,
    `--pid-file=${join(base, 'mysqld.pid')}`,
    `--log-error=${join(base, 'error.log')}`,
    `--tmpdir=${base}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--user=${osUser}`,
    `--server-id=${serverId}`,
    `--init-file=${join(base, 'init.sql')}`,
    '--log-bin=mysql-bin',
    '--log-slave-updates=ON',
    '--binlog-format=ROW',
    '--gtid-strict-mode=ON',
    '--skip-name-resolve',
    '--report-host=127.0.0.1',
    `--report-port=${port}`,
    '--innodb-flush-log-at-trx-commit=2',
    '--sync-binlog=0',
    '--performance-schema=OFF',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    '--max-connections=300',
  ];
}

/** The mariadbd command line of the local cluster: tuned for a laptop or a Pi, replicas read-only from the start. */
export function mariadbArgs(o: MariaDBArgsOptions): string[] {
  return [...mariadbCoreArgs(o.base, o.port, o.serverId), `--read-only=${o.readOnly ? 'ON' : 'OFF'}`, '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M'];
}

export function writeInitFile(base: string, c: Credentials, database: string): void {
  mkdirSync(base, { recursive: true });
  const file = join(base, 'init.sql');
  writeFileSync(file, initSql(c, database), { mode: 0o600 });
  chmodSync(file, 0o600); // the mode above applies only when the file is created
}

/** Resolves once the server accepts a login, or null while it is still starting. */
export async function mariadbAnswers(port: number, user: string, password: string): Promise<boolean> {
  try {
    const c = await mysql.createConnection({ host: '127.0.0.1', port, user, password, connectTimeout: 1000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}
