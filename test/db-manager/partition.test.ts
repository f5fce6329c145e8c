// Real network partitions (ip netns + veth, addresses in 10.213.x.x that the test creates):
// the primary's mariadbd runs inside its own namespace and the replicas, the manager and the
// writers outside reach it over a veth link that the test cuts and heals.
// 1. The primary is cut off from everyone: fail over within seconds, lose nothing acknowledged, and
//    fence the old primary (with its errant GTIDs named) once the link is back.
// 2. Only the manager's own link to the primary is cut while the replicas still receive from it over
//    theirs: no failover (the manager is the one partitioned).
// Skipped, with the reason printed, where namespaces cannot be created (not root). ~40 s in all:
// the partition lasts 10 s on purpose.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { RunningManager } from '@dramble/db-manager';
import { REPLICATION_PASSWORD, REPLICATION_USER, startMariaDB, type MariaDBInstance } from '../support/index.js';
import { idOf, replicaSource, startTestManager, syncFrom, topology, waitFor } from './support/helpers.js';
import { Netns, netnsUnavailable, type VethLink } from './support/netns.js';
import { APP_PASSWORD, APP_SETUP_SQL, APP_USER, missingWrites, Writer } from './support/writer.js';

const unavailable = await netnsUnavailable();
if (unavailable) console.log(`# SKIP partition tests: ${unavailable}`);

const CUT_MS = 10_000;

describe('failover when the network cuts the primary off', { skip: unavailable ?? false }, () => {
  let ns: Netns;
  let link: VethLink;
  let primary: MariaDBInstance;
  let replicas: MariaDBInstance[];
  let m: RunningManager;
  let writer: Writer;

  before(async () => {
    ns = await Netns.create('p');
    link = await ns.addLink();
    [primary, ...replicas] = await Promise.all([
      startMariaDB({ netns: ns.name, host: link.nsAddress }),
      startMariaDB({ host: link.hostAddress }),
      startMariaDB({ host: link.hostAddress }),
    ]);
    m = await startTestManager([primary, ...replicas]); // defaults: semi-sync on, bootstrap
    await waitFor('a healthy topology with semi-sync waiting', async () => {
      const v = await topology(m);
      const p = v.instances.find((i) => i.id === v.primary);
      return v.primary === idOf(primary) && v.problem === null && v.instances.every((i) => i.healthy) && p?.semiSync?.sourceEnabled ? v : undefined;
    });
    await primary.query(APP_SETUP_SQL.join('; '));
    await syncFrom(primary, replicas);
  });
  after(async () => {
    await link?.heal().catch(() => undefined);
    await writer?.stop();
    await m?.close();
    await Promise.all([primary, ...(replicas ?? [])].map((i) => i?.destroy()));
    await ns?.destroy();
  });

  it('promotes a replica within seconds, loses no acknowledged write, and fences the old primary when the link heals', async () => {
    writer = new Writer(async () => {
      const v = m.manager.view();
      return v.instances.find((i) => i.id === v.primary) ?? null;
    }, 20, { followMoves: true });
    writer.start();
    await waitFor('100 acknowledged writes', () => writer.acked.length >= 100 || undefined);

    await link.cut();
    const cutAt = Date.now();
    const firstAck = await waitFor('a write accepted by a new primary', () => writer.firstAckAfter(cutAt), CUT_MS, 20);
    const outage = firstAck - cutAt;
    assert.notEqual(m.manager.view().primary, idOf(primary));
    assert.ok(outage < 6000, `writes were refused for ${outage} ms after the cut`);
    const failover = m.manager.eventList(500).find((e) => e.type === 'failover');
    assert.ok(failover);
    console.log(`# partitioned primary: writes accepted again after ${outage} ms (failover ${String(failover.data?.['durationMs'])} ms)`);

    await waitFor('the end of the partition', () => Date.now() - cutAt >= CUT_MS || undefined, CUT_MS + 1000, 50);
    await link.heal();
    const healedAt = Date.now();
    await waitFor('the old primary to be read-only', async () => {
      const [row] = await primary.query<Array<{ ro: number }>>('SELECT @@read_only AS ro');
      return Number(row?.ro) === 1 || undefined;
    }, 10_000, 50);
    const fencedAfter = Date.now() - healedAt;
    assert.ok(fencedAfter < 2000, `the old primary became read-only ${fencedAfter} ms after the link healed`);

    const app = await mysql.createConnection({ host: primary.host, port: primary.port, user: APP_USER, password: APP_PASSWORD, connectTimeout: 2000 });
    app.on('error', () => undefined);
    const attempt = await app.query({ sql: 'INSERT INTO app.writes (id, at) VALUES (?, ?)', values: [-1, Date.now()], timeout: 3000 }).then(
      () => 'acknowledged',
      (err: { code?: string }) => String(err.code),
    );
    app.destroy();
    assert.notEqual(attempt, 'acknowledged', 'the old primary refuses writes');

    await writer.stop();
    const newPrimary = replicas.find((i) => idOf(i) === m.manager.view().primary)!;
    assert.deepEqual(await missingWrites(newPrimary, writer.acked), [], 'every acknowledged write is on the new primary');
    const other = replicas.find((r) => r !== newPrimary)!;
    await waitFor('the other replica to follow the new primary', async () => {
      const s = await replicaSource(other);
      return s?.port === newPrimary.port && s.io === 'Yes' && s.sql === 'Yes' ? s : undefined;
    });

    const fence = await waitFor('a fence event for the old primary', () => m.manager.eventList(500).find((e) => e.type === 'fence' && e.data?.['instance'] === idOf(primary)));
    const errant = (fence.data?.['errantGtids'] as string[] | undefined) ?? [];
    const view = await waitFor('the old primary reported', async () => {
      const o = (await topology(m)).instances.find((i) => i.id === idOf(primary));
      return o && o.reachable && o.readOnly === true && (o.role === 'replica' || o.role === 'fenced') ? o : undefined;
    });
    if (errant.length > 0) {
      assert.equal(view.role, 'fenced', 'with errant GTIDs it stays fenced');
      assert.deepEqual(view.errantGtids, errant, 'the API names its errant GTIDs');
      assert.match(fence.message, /errant GTIDs/);
    }
    console.log(`# old primary fenced ${fencedAfter} ms after the link healed; errant GTIDs: ${errant.join(',') || 'none'}; now ${view.role}`);
  });
});

describe('the manager alone partitioned from the primary', { skip: unavailable ?? false }, () => {
  let ns: Netns;
  let replicationLink: VethLink;
  let managerLink: VethLink;
  let primary: MariaDBInstance;
  let replicas: MariaDBInstance[];
  let m: RunningManager;
  let primaryId: string;

  before(async () => {
    ns = await Netns.create('m');
    replicationLink = await ns.addLink();
    managerLink = await ns.addLink();
    // The primary listens on both links; the replicas replicate over one, the manager probes over the other.
    [primary, ...replicas] = await Promise.all([
      startMariaDB({ netns: ns.name, host: managerLink.nsAddress, bindAddress: '0.0.0.0' }),
      startMariaDB(),
      startMariaDB(),
    ]);
    const user = `SET sql_log_bin=0; CREATE USER IF NOT EXISTS '${REPLICATION_USER}'@'%' IDENTIFIED BY '${REPLICATION_PASSWORD}'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO '${REPLICATION_USER}'@'%'; SET sql_log_bin=1`;
    await primary.query(user);
    for (const r of replicas) {
      await r.query(
        `${user}; CHANGE MASTER TO MASTER_HOST='${replicationLink.nsAddress}', MASTER_PORT=${primary.port}, MASTER_USER='${REPLICATION_USER}', ` +
          `MASTER_PASSWORD='${REPLICATION_PASSWORD}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=1; SET GLOBAL read_only=ON; START SLAVE`,
      );
    }
    primaryId = idOf(primary);
    m = await startTestManager([primary, ...replicas], { failoverCooldownMs: 0 });
    await waitFor('a healthy topology', async () => {
      const v = await topology(m);
      return v.primary === primaryId && v.problem === null && v.instances.every((i) => i.healthy) ? v : undefined;
    });
  });
  after(async () => {
    await managerLink?.heal().catch(() => undefined);
    await m?.close();
    await Promise.all([primary, ...(replicas ?? [])].map((i) => i?.destroy()));
    await ns?.destroy();
  });

  it('does not fail over while the replicas still receive from the primary', async () => {
    await managerLink.cut();
    await waitFor('the manager to see the primary unreachable', async () => {
      const v = await topology(m);
      return v.problem?.code === 'PrimaryUnreachableFromManager' ? v : undefined;
    });
    // Well past detection (3 probes, 2 s of replica silence) and through a connect that hangs.
    await m.manager.waitTicks(6);
    const v = await topology(m);
    assert.equal(v.primary, primaryId, 'the primary is unchanged');
    assert.equal(v.problem?.code, 'PrimaryUnreachableFromManager');
    assert.match(v.problem?.detail ?? '', /received [\d.]+ s ago/, 'the replicas are judged by what they receive');
    assert.equal(m.manager.eventList(500).filter((e) => e.type === 'failover').length, 0);
    for (const r of replicas) {
      const [ro] = await r.query<Array<{ ro: number }>>('SELECT @@read_only AS ro');
      assert.equal(Number(ro?.ro), 1, 'no replica was promoted');
    }
    // The primary, over the replicas' link, still takes writes and they still replicate.
    const direct = await mysql.createConnection({ host: replicationLink.nsAddress, port: primary.port, user: 'root', password: '', multipleStatements: true });
    await direct.query('CREATE DATABASE IF NOT EXISTS pm; CREATE TABLE IF NOT EXISTS pm.t (id INT PRIMARY KEY); INSERT INTO pm.t VALUES (1)');
    const [pos] = await direct.query<mysql.RowDataPacket[]>('SELECT @@gtid_binlog_pos AS p');
    await direct.end();
    for (const r of replicas) {
      const [row] = await r.query<Array<{ r: number }>>('SELECT MASTER_GTID_WAIT(?, 10) AS r', [String(pos[0]?.['p'])]);
      assert.equal(Number(row?.r), 0, `${idOf(r)} still replicates`);
    }

    await managerLink.heal();
    await waitFor('the topology to be healthy again', async () => {
      const x = await topology(m);
      return x.problem === null && x.primary === primaryId ? x : undefined;
    });
  });
});
