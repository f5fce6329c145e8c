// What the MariaDB containers start with, checked against the real MariaDB 10.11 binaries:
// - the init script the StatefulSet and docker-compose.yml mount into the image's
//   /docker-entrypoint-initdb.d creates the site's database and user without writing a GTID (a GTID
//   there would differ per instance, each initialising its own volume, and the db-manager's bootstrap
//   refuses to attach a replica with errant GTIDs);
// - the server config (my.cnf + the per-pod file the init container writes, and the compose flags) is
//   accepted by mariadbd and gives every instance its own server_id.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { MARIADBD, startMariaDB, type MariaDBInstance } from '../support/index.js';
import { builds, composeFile, composeEnv, find, memoryBytes, root, workloads, type Container, type KubeObj } from './support.js';

const execFileP = promisify(execFile);
const SCRIPT = 'k8s/base/config/10-dramble-initdb.sh';
// Quote, backslash, dollar and backtick: the password must survive shell and SQL quoting.
const PASSWORD = `it's a \\ "tricky" $pw \`x\``;

/**
 * Sources the script as the image's entrypoint does (bash, set -eo pipefail), with stand-ins for the
 * two entrypoint functions it uses: the SQL client pointed at the test server, and SQL string escaping.
 */
async function runInitScript(db: MariaDBInstance, env: Record<string, string>): Promise<void> {
  const shim = [
    'set -eo pipefail',
    `docker_process_sql() { mariadb --protocol=tcp -h${db.host} -P${db.port} -uroot "$@"; }`,
    "docker_sql_escape_string_literal() { local s=\"${1//\\\\/\\\\\\\\}\"; s=\"${s//$'\\n'/\\\\n}\"; printf '%s' \"${s//\\'/\\\\\\'}\"; }",
    `source ${JSON.stringify(join(root, SCRIPT))}`,
  ].join('\n');
  await execFileP('bash', ['-c', shim], { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 });
}

describe('MariaDB init script', () => {
  let db: MariaDBInstance;
  before(async () => {
    db = await startMariaDB();
  });
  after(() => db?.destroy());

  it('creates the database and a user that can use it, and writes nothing to the binlog', async () => {
    const gtid = async () => ((await db.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p'))[0]!.p);
    const before = await gtid();
    await runInitScript(db, { DRAMBLE_DB_NAME: 'dramble', DRAMBLE_DB_USER: 'dramble', DRAMBLE_DB_PASSWORD: PASSWORD });
    assert.equal(await gtid(), before, 'no GTID written');

    const conn = await mysql.createConnection({ host: db.host, port: db.port, user: 'dramble', password: PASSWORD, database: 'dramble' });
    try {
      await conn.query('CREATE TABLE t (id INT PRIMARY KEY)');
      await conn.query('INSERT INTO t VALUES (1)');
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM t');
      assert.equal(rows[0]!.n, 1);
      // Only its own database.
      await assert.rejects(conn.query('CREATE DATABASE other'), /denied/i);
    } finally {
      await conn.end();
    }
  });

  it('fails (and so stops the init) without a password', async () => {
    await assert.rejects(runInitScript(db, { DRAMBLE_DB_NAME: 'x' }), /DRAMBLE_DB_PASSWORD must be set/);
  });
});

describe('the init script is what the MariaDB containers get', () => {
  const script = readFileSync(join(root, SCRIPT), 'utf8');
  const FORBIDDEN = ['MARIADB_DATABASE', 'MARIADB_USER', 'MARIADB_PASSWORD', 'MYSQL_DATABASE', 'MYSQL_USER', 'MYSQL_PASSWORD', 'MARIADB_REPLICATION_USER'];

  for (const [overlay, objs] of builds()) {
    it(`${overlay}: the StatefulSet mounts it into /docker-entrypoint-initdb.d and leaves out the image's logged user setup`, () => {
      const mysqlPod = workloads(objs).find((w) => w.name === 'mysql')!;
      const c = mysqlPod.pod.containers[0]!;
      const mount = c.volumeMounts?.find((m) => m.mountPath === '/docker-entrypoint-initdb.d');
      assert.ok(mount, 'mounted');
      const volume = mysqlPod.pod.volumes?.find((v) => v.name === mount.name);
      const cm = find(objs, 'ConfigMap', volume?.configMap?.name ?? '') as (KubeObj & { data: Record<string, string> }) | undefined;
      assert.deepEqual(Object.values(cm?.data ?? {}), [script]);
      const names = (c.env ?? []).map((e) => e.name);
      assert.deepEqual(names.filter((n) => FORBIDDEN.includes(n)), []);
      assert.ok(names.includes('DRAMBLE_DB_PASSWORD'));
    });
  }

  it('docker-compose.yml: both MariaDB services mount it and leave out the image user setup', () => {
    const compose = composeFile();
    for (const name of ['mariadb-primary', 'mariadb-replica']) {
      const s = compose.services[name] as { volumes?: (string | { source?: string; target?: string })[]; environment?: Record<string, string> };
      const mounts = (s.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
      assert.ok(mounts.some((m) => m.includes('10-dramble-initdb.sh') && m.includes('/docker-entrypoint-initdb.d/')), `${name} mounts the script`);
      const env = composeEnv(s.environment);
      assert.deepEqual(Object.keys(env).filter((n) => FORBIDDEN.includes(n)), []);
      assert.ok(env.DRAMBLE_DB_PASSWORD);
    }
  });
});

/** What the real mariadbd makes of a config: `--verbose --help` fails on an unknown or invalid option,
 * which is the check the image's entrypoint runs before it starts the server. */
async function mariadbdVariables(args: string[]): Promise<Map<string, string>> {
  const { stdout } = await execFileP(MARIADBD, [...args, '--verbose', '--help'], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
  const vars = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([a-z][\w-]*)\s{2,}(.*)$/.exec(line);
    if (m) vars.set(m[1]!, m[2]!.trim());
  }
  return vars;
}

describe('MariaDB server config', () => {
  const objs = builds().get('pi')!;
  const sts = workloads(objs).find((w) => w.name === 'mysql')!;
  const init = sts.pod.initContainers!.find((c) => c.name === 'server-id')! as Container & { command: string[] };
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dramble-mycnf-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the init container's script for one pod, with its volume mounts as local directories. */
  async function initFor(pod: string): Promise<string> {
    const podDir = join(dir, pod);
    let script = init.command.at(-1)!;
    for (const m of init.volumeMounts ?? []) {
      const local = join(podDir, m.name);
      mkdirSync(local, { recursive: true });
      if (m.name === 'config') {
        const cmName = sts.pod.volumes!.find((v) => v.name === 'config')!.configMap!.name;
        for (const [k, v] of Object.entries((find(objs, 'ConfigMap', cmName) as KubeObj & { data: Record<string, string> }).data)) writeFileSync(join(local, k), v);
      }
      script = script.replaceAll(`${m.mountPath}/`, `${local}/`);
    }
    const bin = join(podDir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'hostname'), `#!/bin/sh\necho ${pod}\n`, { mode: 0o755 });
    await execFileP(init.command[0]!, [...init.command.slice(1, -1), script], { env: { PATH: `${bin}:${process.env.PATH}` }, timeout: 30_000 });
    const confD = join(podDir, 'conf-d');
    const main = join(podDir, 'my.cnf');
    writeFileSync(main, `!includedir ${confD}\n`);
    return main;
  }

  it('every pod gets a valid config with replication on, read_only, and its own server_id and report_host', async () => {
    const ids = new Set<string>();
    for (const pod of ['mysql-0', 'mysql-1', 'mysql-2']) {
      const vars = await mariadbdVariables([`--defaults-file=${await initFor(pod)}`]);
      assert.equal(vars.get('log-bin'), 'mysql-bin');
      assert.equal(vars.get('binlog-format'), 'ROW');
      assert.equal(vars.get('gtid-strict-mode'), 'TRUE');
      assert.equal(vars.get('log-slave-updates'), 'TRUE');
      assert.equal(vars.get('read-only'), 'TRUE');
      assert.equal(vars.get('report-host'), `${pod}.mysql`, 'the pod DNS name through the headless Service');
      ids.add(vars.get('server-id')!);
    }
    assert.deepEqual([...ids], ['100', '101', '102']);
  });

  it('the buffer pool leaves room inside the container memory limit', async () => {
    const vars = await mariadbdVariables([`--defaults-file=${await initFor('mysql-9')}`]);
    const pool = Number(vars.get('innodb-buffer-pool-size'));
    const limit = memoryBytes(sts.pod.containers[0]!.resources!.limits!.memory!);
    assert.ok(pool > 0 && pool <= limit / 3, `buffer pool ${pool} vs limit ${limit}`);
  });

  it('docker-compose.yml starts each MariaDB with valid options and its own server_id', async () => {
    const compose = composeFile();
    const ids = new Set<string>();
    for (const name of ['mariadb-primary', 'mariadb-replica']) {
      const cmd = (compose.services[name] as { command?: string[] }).command ?? [];
      const vars = await mariadbdVariables(['--no-defaults', ...cmd]);
      assert.equal(vars.get('gtid-strict-mode'), 'TRUE');
      assert.equal(vars.get('read-only'), 'TRUE');
      ids.add(vars.get('server-id')!);
    }
    assert.equal(ids.size, 2);
  });
});
