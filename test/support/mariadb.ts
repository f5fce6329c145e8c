// Real MariaDB servers for tests: each on a free port with its own temporary data dir, binary log
// and GTID on, tuned for speed rather than durability. The system tables are installed once into a
// template dir (mariadb-install-db is the slow part) and copied for every instance.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { mariadbCoreArgs } from '../../cli/src/local/mariadb.js';
import { freePort } from './ports.js';
import { spawnTracked, isAlive, type Spawned } from './processes.js';

const run = promisify(execFile);

export const MARIADBD = findBinary(['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd']);
const INSTALL_DB = findBinary(['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db', '/usr/scripts/mariadb-install-db']);

function findBinary(candidates: string[]): string {
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

const isRoot = process.getuid?.() === 0;
const osUser = isRoot ? 'root' : userInfo().username;

export interface MariaDBOptions {
  serverId?: number;
  /** Extra mariadbd arguments, e.g. ['--rpl-semi-sync-master-enabled=ON']. */
  args?: string[];
  /** Address to listen on (default 127.0.0.1); any other gets a root@'%' login for clients from other addresses. */
  host?: string;
  /** Address(es) mariadbd binds, when not just `host` (e.g. 0.0.0.0 to listen on every link of a namespace). */
  bindAddress?: string;
  /** Run mariadbd inside this network namespace (ip netns exec; needs root): `host` must be an address there. */
  netns?: string;
}

export interface MariaDBInstance {
  host: string;
  port: number;
  serverId: number;
  datadir: string;
  socket: string;
  pid: number;
  /** mysql://root@127.0.0.1:port/ with no password. */
  url: string;
  connect(database?: string): Promise<mysql.Connection>;
  query<T = mysql.RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  /** SIGKILL, as when a Pi loses power. The data dir stays so the instance can be restarted. */
  kill(): Promise<void>;
  /** Starts mariadbd again on the same port and data dir (after kill or stop). */
  restart(): Promise<void>;
  /** Clean shutdown, keeping the data dir. */
  stop(): Promise<void>;
  /** Stops it and removes its data dir. */
  destroy(): Promise<void>;
  readonly running: boolean;
}

let nextServerId = 1 + (process.pid % 1000) * 10;

async function templateDir(): Promise<string> {
  const { stdout } = await run(MARIADBD, ['--version']);
  const version = (/Ver\s+(\S+)/.exec(stdout)?.[1] ?? 'unknown').replace(/[^\w.-]/g, '_');
  const dir = join(tmpdir(), `dramble-mariadb-template-${version}-${osUser}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  const staging = mkdtempSync(join(tmpdir(), 'dramble-mariadb-staging-'));
  await run(INSTALL_DB, [
    '--no-defaults',
    `--datadir=${staging}`,
    `--user=${osUser}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
  ], { timeout: 120_000 });
  writeFileSync(join(staging, '.complete'), 'ok\n');
  try {
    renameSync(staging, dir); // atomic: parallel test processes race here and one wins
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}

export async function startMariaDB(options: MariaDBOptions = {}): Promise<MariaDBInstance> {
  const template = await templateDir();
  const base = mkdtempSync(join(tmpdir(), 'dramble-mariadb-'));
  const datadir = join(base, 'data');
  cpSync(template, datadir, { recursive: true });
  rmSync(join(datadir, '.complete'), { force: true });
  const port = await freePort();
  const host = options.host ?? '127.0.0.1';
  const serverId = options.serverId ?? nextServerId++;
  const socket = join(base, 'mysqld.sock');
  const initFile = join(base, 'init.sql');
  // Not binlogged: these users must not become GTIDs that differ between servers.
  writeFileSync(
    initFile,
    [
      'SET sql_log_bin=0;',
      "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';",
      "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
      ...(host === '127.0.0.1' ? [] : ["CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '';", "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"]),
      '',
    ].join('\n'),
  );
  // Smaller buffers and no doublewrite than the local cluster: test speed over crash safety.
  const args = [
    ...mariadbCoreArgs(base, port, serverId),
    '--innodb-buffer-pool-size=16M',
    '--innodb-log-file-size=8M',
    '--innodb-doublewrite=0',
    ...(host === '127.0.0.1' && !options.bindAddress ? [] : [`--bind-address=${options.bindAddress ?? host}`, `--report-host=${host}`]),
    ...(options.args ?? []),
  ];

  let proc: Spawned | undefined;
  const start = async (): Promise<void> => {
    // ip netns exec execs mariadbd in place: the pid is mariadbd's, so SIGSTOP and SIGKILL reach it.
    proc = options.netns ? spawnTracked('ip', ['netns', 'exec', options.netns, MARIADBD, ...args]) : spawnTracked(MARIADBD, args);
    await waitUntilUp(host, port, proc, join(base, 'error.log'));
  };
  await start();

  const instance: MariaDBInstance = {
    host,
    port,
    serverId,
    datadir,
    socket,
    get pid() {
      return proc?.child.pid ?? 0;
    },
    url: `mysql://root@${host}:${port}/`,
    get running() {
      return proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;
    },
    connect: (database) => mysql.createConnection({ host, port, user: 'root', password: '', multipleStatements: true, ...(database ? { database } : {}) }),
    async query<T>(sql: string, params: unknown[] = []): Promise<T> {
      const conn = await instance.connect();
      try {
        const [rows] = await conn.query(sql, params);
        return rows as T;
      } finally {
        await conn.end().catch(() => undefined);
      }
    },
    async kill() {
      if (!proc || !instance.running) return;
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    async stop() {
      if (!proc || !instance.running) return;
      proc.child.kill('SIGTERM');
      const timer = setTimeout(() => proc?.child.kill('SIGKILL'), 15_000);
      await proc.exited;
      clearTimeout(timer);
    },
    async restart() {
      if (instance.running) await instance.stop();
      await start();
    },
    async destroy() {
      await instance.kill();
      rmSync(base, { recursive: true, force: true });
    },
  };
  return instance;
}

async function waitUntilUp(host: string, port: number, proc: Spawned, errorLog: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`mariadbd exited during start:\n${tail(errorLog)}`);
    try {
      const c = await mysql.createConnection({ host, port, user: 'root', password: '', connectTimeout: 1000 });
      await c.end();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (proc.child.pid && isAlive(proc.child.pid)) proc.child.kill('SIGKILL');
  throw new Error(`mariadbd on port ${port} did not accept connections within 60 s:\n${tail(errorLog)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no error log)';
  }
}

export interface ReplicationCluster {
  primary: MariaDBInstance;
  replicas: MariaDBInstance[];
  all: MariaDBInstance[];
  /** Waits until every running replica has applied the primary's current GTID position. */
  sync(timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

export const REPLICATION_USER = 'repl';
export const REPLICATION_PASSWORD = 'repl-test-password';

export interface ClusterOptions {
  replicas?: number;
  /** Wire the replicas to the primary (default true). False gives fresh servers, e.g. for bootstrap tests. */
  wired?: boolean;
  semiSync?: boolean;
  args?: string[];
}

/** N MariaDB instances; by default the first is the primary and the rest replicate from it by GTID. */
export async function startReplicationCluster(options: ClusterOptions = {}): Promise<ReplicationCluster> {
  const n = 1 + (options.replicas ?? 1);
  const semi = options.semiSync ? ['--rpl-semi-sync-master-enabled=ON', '--rpl-semi-sync-slave-enabled=ON'] : [];
  const all = await Promise.all(Array.from({ length: n }, () => startMariaDB({ args: [...semi, ...(options.args ?? [])] })));
  const [primary, ...replicas] = all as [MariaDBInstance, ...MariaDBInstance[]];
  const cluster: ReplicationCluster = {
    primary,
    replicas,
    all,
    async sync(timeoutMs = 10_000) {
      const [rows] = await withConn(primary, (c) => c.query<mysql.RowDataPacket[]>('SELECT @@gtid_binlog_pos AS pos'));
      const pos = String(rows[0]?.['pos'] ?? '');
      await Promise.all(
        replicas
          .filter((r) => r.running)
          .map(async (r) => {
            const [res] = await withConn(r, (c) => c.query<mysql.RowDataPacket[]>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [pos, timeoutMs / 1000]));
            if (Number(res[0]?.['r']) !== 0) throw new Error(`replica ${r.port} did not reach ${pos} within ${timeoutMs} ms`);
          }),
      );
    },
    async destroy() {
      await Promise.all(all.map((i) => i.destroy()));
    },
  };
  if (options.wired !== false) {
    await primary.query(
      `SET sql_log_bin=0; CREATE USER IF NOT EXISTS '${REPLICATION_USER}'@'%' IDENTIFIED BY '${REPLICATION_PASSWORD}'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO '${REPLICATION_USER}'@'%'`,
    );
    for (const r of replicas) {
      await r.query(
        `SET sql_log_bin=0; CREATE USER IF NOT EXISTS '${REPLICATION_USER}'@'%' IDENTIFIED BY '${REPLICATION_PASSWORD}'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO '${REPLICATION_USER}'@'%'; ` +
          `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='${REPLICATION_USER}', MASTER_PASSWORD='${REPLICATION_PASSWORD}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; ` +
          'SET GLOBAL read_only=ON; START SLAVE',
      );
    }
    await cluster.sync();
  }
  return cluster;
}

async function withConn<T>(i: MariaDBInstance, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await i.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
