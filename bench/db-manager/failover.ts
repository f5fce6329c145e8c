// Failover and switchover drills against real MariaDB (3 instances, semi-sync) with the manager
// running as its own process with default timings, and a client that commits every 10 ms to the
// primary it learns from Redis (as the app does). Medians over DRILLS runs; results go to README.md.
// Run: npm run bench -- db-manager   (or: node --conditions=dramble-src --import tsx bench/db-manager/failover.ts)
import { existsSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, REPLICATION_PASSWORD, REPLICATION_USER, spawnTracked, startMariaDB, startRedis, startReplicationCluster, type MariaDBInstance, type Spawned } from '../../test/support/index.js';
import { Netns, netnsUnavailable } from '../../test/db-manager/support/netns.js';
import { APP_SETUP_SQL, missingWrites, Writer } from '../../test/db-manager/support/writer.js';
import { cpuMs, productionEnv, productionNodeFlags, sampleRss, type RssSampler } from './manager.lib.js';

const DRILLS = Number(process.env['DRILLS'] ?? 5);
const TOKEN = 'bench-token';
const root = new URL('../..', import.meta.url).pathname;
const id = (i: { host: string; port: number }): string => `${i.host}:${i.port}`;

const PROD_ENV = productionEnv(root);
const NODE_FLAGS = productionNodeFlags(root);

interface Manager {
  url: string;
  proc: Spawned;
  rss: RssSampler;
  /** Highest RSS from spawn until the manager reported a healthy topology. */
  startPeak: number;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function startManagerProcess(cluster: { all: Array<{ host: string; port: number }> }, redisUrl: string): Promise<Manager> {
  const port = await freePort();
  const dist = join(root, 'services/db-manager/dist/main.js');
  const useDist = existsSync(dist) && existsSync(join(root, 'lib/dist/index.js'));
  const entry = useDist ? [dist] : ['--conditions=dramble-src', '--import', 'tsx', join(root, 'services/db-manager/src/main.ts')];
  // Production settings: NODE_OPTIONS, MALLOC_ARENA_MAX and node's flags exactly as the image sets them.
  const args = [...NODE_FLAGS, ...entry, '--instances', cluster.all.map(id).join(','), '--replication-user', REPLICATION_USER, '--admin', `127.0.0.1:${port}`, '--redis-url', redisUrl, '--semi-sync', 'true', '--log-level', process.env['BENCH_LOG'] ? 'debug' : 'warn', ...(process.env['BENCH_MANAGER_ARGS'] ?? '').split(' ').filter(Boolean)];
  const logFd = process.env['BENCH_LOG'] ? openSync(process.env['BENCH_LOG'], 'a') : 'ignore';
  const proc = spawnTracked(process.execPath, args, { cwd: root, stdio: ['ignore', logFd, logFd], env: { ...process.env, ...PROD_ENV, DBM_ADMIN_TOKEN: TOKEN, DBM_REPLICATION_PASSWORD: REPLICATION_PASSWORD } });
  const rss = sampleRss(proc.child.pid!);
  const url = `http://127.0.0.1:${port}`;
  await until('manager healthy topology', async () => {
    const t = (await (await fetch(`${url}/api/topology`)).json()) as { primary: string | null; instances: Array<{ healthy: boolean }> };
    return t.primary !== null && t.instances.every((i) => i.healthy);
  });
  const startPeak = rss.peak();
  rss.reset();
  return { url, proc, rss, startPeak };
}

/** The client's view of the primary, from the Redis channel (newest epoch wins). */
async function followTopology(redisUrl: string): Promise<{ primary: () => Promise<{ host: string; port: number } | null>; close(): void }> {
  const sub = new Redis(redisUrl);
  const get = new Redis(redisUrl);
  let current: { epoch: number; primary: { host: string; port: number } | null } = JSON.parse((await get.get('dramble:topology')) ?? '{"epoch":0,"primary":null}');
  await sub.subscribe('dramble:topology');
  sub.on('message', (_c, msg) => {
    const t = JSON.parse(msg) as typeof current;
    if (t.epoch >= current.epoch) {
      if (process.env['BENCH_LOG'] && t.primary?.port !== current.primary?.port) console.log(`${new Date().toISOString()} client sees primary ${t.primary?.port}`);
      current = t;
    }
  });
  return { primary: async () => current.primary, close: () => { sub.disconnect(); get.disconnect(); } };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface FailoverFigures {
  detectMs: number;
  failoverMs: number;
  lost: number;
  /** Peak RSS from the healthy manager through the kill, the failover and the writes after it. */
  rss: number;
  startPeak: number;
}

/**
 * How the primary fails: kill (SIGKILL: connections refused at once), hang (SIGSTOP: connections open,
 * nothing answers; SIGCONT after the drill), partition (its mariadbd in a network namespace whose veth
 * link is cut: packets vanish; needs root).
 */
type Fault = 'kill' | 'hang' | 'partition';

interface DrillCluster {
  primary: MariaDBInstance;
  all: MariaDBInstance[];
  fail(): Promise<void>;
  /** Undoes a hang or a cut before the cluster is destroyed. */
  restore(): Promise<void>;
  destroy(): Promise<void>;
}

async function drillCluster(fault: Fault): Promise<DrillCluster> {
  if (fault !== 'partition') {
    const c = await startReplicationCluster({ replicas: 2, wired: false, semiSync: true });
    return {
      primary: c.primary,
      all: c.all,
      fail: async () => (fault === 'kill' ? c.primary.kill() : void process.kill(c.primary.pid, 'SIGSTOP')),
      restore: async () => void (fault === 'hang' && c.primary.running && process.kill(c.primary.pid, 'SIGCONT')),
      destroy: () => c.destroy(),
    };
  }
  const ns = await Netns.create('b');
  const link = await ns.addLink();
  const semi = ['--rpl-semi-sync-master-enabled=ON', '--rpl-semi-sync-slave-enabled=ON'];
  const all = await Promise.all([startMariaDB({ netns: ns.name, host: link.nsAddress, args: semi }), startMariaDB({ host: link.hostAddress, args: semi }), startMariaDB({ host: link.hostAddress, args: semi })]);
  return {
    primary: all[0]!,
    all,
    fail: () => link.cut(),
    restore: () => link.heal(),
    destroy: async () => {
      await Promise.all(all.map((i) => i.destroy()));
      await ns.destroy();
    },
  };
}

async function failoverDrill(n: number, fault: Fault = 'kill'): Promise<FailoverFigures> {
  const [cluster, redis] = await Promise.all([drillCluster(fault), startRedis()]);
  const m = await startManagerProcess(cluster, redis.url);
  try {
    await cluster.primary.query(APP_SETUP_SQL.join('; '));
    const topo = await followTopology(redis.url);
    // A write in flight to a hung or cut-off primary is given up when the topology names another, as the app's pool does.
    const writer = new Writer(topo.primary, 10, { followMoves: fault !== 'kill' });
    writer.start();
    await until('writes', async () => writer.acked.length >= 200);
    const sentAt = Date.now();
    await cluster.fail();
    // Writes acknowledged while the signal (or the cut) was on its way count as before the failure.
    const killedAt = Date.now();
    if (process.env['BENCH_LOG']) console.log(`${new Date(killedAt).toISOString()} ${fault} (${killedAt - sentAt} ms after the fault)`);
    const firstAck = await until('a write after the fault', async () => writer.firstAckAfter(killedAt));
    await until('more writes', async () => writer.ackTimes.filter((t) => t > firstAck).length >= 100);
    await writer.stop();
    topo.close();
    await cluster.restore();
    const events = (await (await fetch(`${m.url}/api/events?limit=500`)).json()) as { events: Array<{ at: string; type: string; message: string }> };
    const started = events.events.find((e) => e.type === 'step' && e.message.startsWith('failover from'));
    const detectMs = started ? Date.parse(started.at) - killedAt : NaN;
    const t = (await (await fetch(`${m.url}/api/topology`)).json()) as { primary: string };
    const newPrimary = cluster.all.find((i) => id(i) === t.primary)!;
    const lost = (await missingWrites(newPrimary, writer.acked)).length;
    const rss = m.rss.peak();
    console.log(`${fault} drill ${n}: detection ${detectMs} ms, writes refused ${firstAck - killedAt} ms, lost ${lost} of ${writer.acked.length}, manager RSS peak ${rss.toFixed(1)} MB (start ${m.startPeak.toFixed(1)} MB)`);
    return { detectMs, failoverMs: firstAck - killedAt, lost, rss, startPeak: m.startPeak };
  } finally {
    m.rss.stop();
    m.proc.child.kill('SIGKILL');
    await m.proc.exited;
    await cluster.restore().catch(() => undefined);
    await Promise.all([cluster.destroy(), redis.destroy()]);
  }
}

async function switchoverDrills(count: number): Promise<{ drills: Array<{ gapMs: number; lost: number }>; rss: number; startPeak: number; cpuMsPerS: number }> {
  const [cluster, redis] = await Promise.all([startReplicationCluster({ replicas: 2, semiSync: true }), startRedis()]);
  const m = await startManagerProcess(cluster, redis.url);
  const out: Array<{ gapMs: number; lost: number }> = [];
  const cpu0 = cpuMs(m.proc.child.pid!);
  const wall0 = Date.now();
  try {
    await cluster.primary.query(APP_SETUP_SQL.join('; '));
    for (let n = 1; n <= count; n++) {
      const topo = await followTopology(redis.url);
      const writer = new Writer(topo.primary, 10);
      writer.start();
      await until('writes', async () => writer.acked.length >= 100);
      const t0 = Date.now();
      const res = await fetch(`${m.url}/api/switchover`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
      const body = (await res.json()) as { to: string; error?: string };
      if (res.status !== 200) throw new Error(`switchover ${n}: ${res.status} ${body.error ?? ''}`);
      await until('writes on the new primary', async () => writer.ackTimes.filter((t) => t > t0).length >= 100);
      await writer.stop();
      topo.close();
      const gapMs = writer.longestGap(t0 - 500, Date.now());
      const lost = (await missingWrites(cluster.all.find((i) => id(i) === body.to)!, writer.acked)).length;
      console.log(`switchover drill ${n}: to ${body.to}, writes paused ${gapMs} ms, lost ${lost} of ${writer.acked.length}`);
      out.push({ gapMs, lost });
      await until('healthy again', async () => {
        const t = (await (await fetch(`${m.url}/api/topology`)).json()) as { instances: Array<{ healthy: boolean }> };
        return t.instances.every((i) => i.healthy);
      });
    }
    const rss = m.rss.peak();
    const cpuMsPerS = (cpuMs(m.proc.child.pid!) - cpu0) / ((Date.now() - wall0) / 1000);
    console.log(`switchover drills: manager RSS peak ${rss.toFixed(1)} MB (start ${m.startPeak.toFixed(1)} MB), CPU ${cpuMsPerS.toFixed(1)} ms/s`);
    return { drills: out, rss, startPeak: m.startPeak, cpuMsPerS };
  } finally {
    m.rss.stop();
    m.proc.child.kill('SIGKILL');
    await m.proc.exited;
    await Promise.all([cluster.destroy(), redis.destroy()]);
  }
}

/** What was measured while working on the manager's 60 MB goal (issue 5); figures from 2026-11-25 on this machine. */
const RSS_NOTES = `- RSS, before and after (issue 5). Before: 89.4 MB median at the end of a failover drill (Node flags
  \`--max-semi-space-size=1\` only), growing by ~2 MB per switchover. Where it went, on an idle manager
  (x86-64, Node 20): Node itself is ~41 MB before any module loads (30-35 MB of it the node binary's
  code, mapped from the file); the rest is the modules and the V8 heap. What changed:
  - \`--jitless\` in the image's NODE_OPTIONS: -10 to -12 MB (no optimising compilers, their code pages
    and their code space). The manager waits on MySQL: its CPU use with and without it was the same
    (~8 ms per second idle over 30 s, both ways), and failover times did not move. (Switchover write
    pauses went from ~113 ms to ~25 ms over this work; not traced to one change.)
  - mysql2 connections without their preallocated caches (\`maxPreparedStatements: 1\`, parser cache 256):
    each connection allocated a 16000-entry statement cache (~0.5 MB), and recovery opens fresh
    connections for every step, so RSS climbed ~10 MB over five switchovers; now flat.
  - The API on plain node:http, routed by hand as the balancer's admin API is (2026-11-25): express with
    its body parsers and MIME tables was ~2 MB of live heap for four routes. With the next change the drill
    peak went from 60.4 to 57.7 MB. ioredis stays: a small hand-written RESP client saved another ~1.7 MB,
    but reconnects and timeouts are where a well-kept client earns its place.
  - per-instance Prometheus gauges filled at scrape time, and no per-query stack capture in mysql2:
    fewer short-lived objects per probe round.
  - \`--expose-gc\` and a full GC once the first probe round is done and then every 30 s (src/memory.ts):
    with a 1 MB young generation, ~20 KB of each probe round's objects reach the old generation, and V8 collects it only
    after it grew 8 MB, so an idle manager climbed from ~55 MB to ~62 MB between V8's own full GCs. Each
    collection takes ~10 ms.
    Ten minutes idle (\`_rss-probe.ts\`, one sample every 30 s): without it 55.2 MB, climbing to 62.1 MB at
    5.5 min, V8's own full GC, 56.7 MB and climbing again; with it 55.0-55.5 MB throughout.
  - The drill peak was the start-up level: loading the modules leaves ~6 MB of garbage, V8 grew the heap
    to hold it and kept those pages until its memory reducer ran ~8 s after start, so a manager that had
    just reported healthy sat at ~66 MB and then settled at ~58 MB. Now main.ts runs one plain \`gc()\` as
    soon as its modules are loaded (a plain call is V8's memory-reducing collection; the options-object
    form is not and left the heap at its size): -2 to -3 MB at healthy.
  - \`--lite-mode\` on the image's CMD line (NODE_OPTIONS refuses it): V8's memory-saving settings on top of
    \`--jitless\` (feedback vectors allocated lazily, smaller heap growing steps). -3 to -4 MB at healthy;
    failover and switchover times unchanged. With both, \`_rss-probe.ts\` gave 59.1-60.5 MB at healthy
    and 58-59.5 MB after switchovers over ten managers (it was 64.7-66.7 MB at healthy).
  - Tried with it and not kept, each within the run-to-run noise (±0.6 MB): \`--optimize-for-size\` (implied
    by lite mode), \`--bytecode-old-age=1\` and \`2\`, \`--single-threaded\`, \`--v8-pool-size=1\`, \`--max-lazy\`,
    \`--stack-size=256\`, MALLOC_ARENA_MAX=1.
  - The first periodic collection moved from 1 s after start to the end of the first probe round: opening
    the pools and connections leaves ~4 MB of garbage, and the manager reported its first healthy topology
    at ~61 MB with it; now at ~57.6 MB (three \`_rss-probe.ts\` runs each way).
- What is left is mostly fixed cost. Node itself maps ~31 MB of its own binary (code and read-only data)
  before any module loads. The live heap is ~12 MB spread over many modules (a heap snapshot shows no
  single large object): zod ~2.4 MB (its core, the classic API and ~40 locales), mysql2
  ~2.0 MB, ioredis ~1.1 MB, prom-client ~1.0 MB, pino ~0.4 MB.
- \`--max-old-space-size\` (32, 48, 64) changed nothing measurable and is not set. A Kubernetes-mode manager
  (\`--discovery kubernetes\` or \`--election kubernetes\`) also loads @kubernetes/client-node, which the
  drills do not: \`KUBE=1 _rss-probe.ts\` (a manager holding a Lease on test/support's API server) gives
  92-94 MB. Loading client-node 1.4 alone adds ~26 MB of live heap and ~40 MB RSS under the same flags:
  its KubeConfig imports every generated API and model module, ~15 MB of JS source that V8 keeps.
  The manifests request 96 Mi for the manager. Tried and not kept: one esbuild bundle (minified,
  tree-shaken) of the manager: 88 MB in Kubernetes mode, but 82 MB without it, because the bundle's
  source, client-node included, is held whether it runs or not.
- \`_rss-probe.ts\` in this folder repeats the idle and switchover measurements on one manager, e.g.
  \`IDLE_S=600 RSS_EVERY_S=30 node --conditions=dramble-src --import tsx bench/db-manager/_rss-probe.ts\`.`;

const FAULTS: Fault[] = ['kill', 'hang', 'partition'];
const oneFault = (process.env['BENCH_FAULT'] ?? 'kill') as Fault;
if (!FAULTS.includes(oneFault)) throw new Error(`BENCH_FAULT must be one of ${FAULTS.join(', ')}`);
const noNetns = await netnsUnavailable();
if (process.env['BENCH_ONE']) {
  if (oneFault === 'partition' && noNetns) throw new Error(`partition drill: ${noNetns}`);
  await failoverDrill(1, oneFault);
  process.exit(0);
}
const failovers = [];
for (let n = 1; n <= DRILLS; n++) failovers.push(await failoverDrill(n));
const hangs = [];
for (let n = 1; n <= DRILLS; n++) hangs.push(await failoverDrill(n, 'hang'));
const partitions = [];
if (noNetns) console.log(`partition drills skipped: ${noNetns}`);
else for (let n = 1; n <= DRILLS; n++) partitions.push(await failoverDrill(n, 'partition'));
const switchoverRun = await switchoverDrills(DRILLS);
const switchovers = switchoverRun.drills;
const drillPeaks = [...failovers.map((f) => f.rss), switchoverRun.rss];
const settingsText = Object.entries(PROD_ENV).map(([k, v]) => `${k}=${v.includes(' ') ? `"${v}"` : v}`).join(' ');

const rows = [
  ['detection time (SIGKILL to failover start)', `${median(failovers.map((f) => f.detectMs)).toFixed(0)} ms`],
  ['failover time (SIGKILL to first write accepted on the new primary)', `${median(failovers.map((f) => f.failoverMs)).toFixed(0)} ms`, '<= 3000 ms'],
  ['detection time, hung primary (SIGSTOP to failover start)', `${median(hangs.map((f) => f.detectMs)).toFixed(0)} ms`],
  ['failover time, hung primary (SIGSTOP to first write accepted on the new primary)', `${median(hangs.map((f) => f.failoverMs)).toFixed(0)} ms`, '<= 5000 ms'],
  ['acknowledged writes lost (hung primary, all drills)', String(hangs.reduce((a, f) => a + f.lost, 0)), '0'],
  ...(partitions.length === 0
    ? [['partitioned primary (netns link cut)', `not run: ${noNetns ?? ''}`]]
    : [
        ['detection time, partitioned primary (link cut to failover start)', `${median(partitions.map((f) => f.detectMs)).toFixed(0)} ms`],
        ['failover time, partitioned primary (link cut to first write accepted)', `${median(partitions.map((f) => f.failoverMs)).toFixed(0)} ms`, '<= 5000 ms'],
        ['acknowledged writes lost (partitioned primary, all drills)', String(partitions.reduce((a, f) => a + f.lost, 0)), '0'],
      ]),
  ['switchover write unavailability (longest gap between acknowledged writes)', `${median(switchovers.map((s) => s.gapMs)).toFixed(0)} ms`, '<= 100 ms'],
  ['acknowledged writes lost (failover, all drills)', String(failovers.reduce((a, f) => a + f.lost, 0)), '0'],
  ['acknowledged writes lost (switchover, all drills)', String(switchovers.reduce((a, s) => a + s.lost, 0)), '0'],
  ['manager RSS, peak during a failover drill', `${median(failovers.map((f) => f.rss)).toFixed(1)} MB (highest ${Math.max(...failovers.map((f) => f.rss)).toFixed(1)} MB)`, '<= 60 MB'],
  ['manager RSS, peak over all switchover drills (one manager)', `${switchoverRun.rss.toFixed(1)} MB`, '<= 60 MB'],
  ['manager RSS, peak while starting (spawn to healthy; not a goal)', `${median([...failovers.map((f) => f.startPeak), switchoverRun.startPeak]).toFixed(1)} MB`],
];
const table = ['| measure | median | goal |', '| --- | --- | --- |', ...rows.map((r) => `| ${r[0]} | ${r[1]} | ${r[2] ?? ''} |`)].join('\n');
console.log(`\n${table}`);
const readme = `# db-manager benchmark

Failover and switchover drills against three real MariaDB ${'10.11'} instances with semi-synchronous
replication (AFTER_SYNC), the manager running as its own process with **default timings** (probe every
1000 ms, 3 failed probes over at least 1500 ms, probe timeout 500 ms), and a client that commits an
INSERT every 10 ms to the primary it learns from the Redis topology channel, recording every
acknowledged write. Each failover drill uses a fresh cluster and a fresh manager; the switchover drills
run back to back on one cluster and one manager.

The manager runs with the image's production settings, read from the \`ENV\` and \`CMD\` lines of
\`services/db-manager/Dockerfile\`:

    ${settingsText} node ${[...NODE_FLAGS, ''].join(' ')}services/db-manager/dist/main.js

Its RSS (VmRSS) is sampled every 50 ms from the moment it reports a healthy topology until the end of
the drill (for the switchover manager: all ${DRILLS} switchovers); the tables give the peak. The start-up
peak (spawn until healthy) is listed separately.

Command:

    npm run bench -- db-manager
    # or: DRILLS=5 node --conditions=dramble-src --import tsx bench/db-manager/failover.ts
    # other flags: BENCH_NODE_OPTIONS='--max-semi-space-size=1' (replaces NODE_OPTIONS), BENCH_NODE_FLAGS='' (replaces
    # the CMD line's node flags), BENCH_ONE=1 (one failover drill), with BENCH_FAULT=kill|hang|partition (partition needs root)

Last run: ${new Date().toISOString()}, ${DRILLS} drills each, on this machine (${(await import('node:os')).cpus().length} CPUs, x86-64, Node ${process.version}).

${table}

Per drill:

${[...hangs.map((f, i) => ['hung primary', f, i] as const), ...partitions.map((f, i) => ['partitioned primary', f, i] as const)].map(([k, f, i]) => `- ${k} ${i + 1}: detection ${f.detectMs} ms, writes refused ${f.failoverMs} ms, lost ${f.lost}, RSS peak ${f.rss.toFixed(1)} MB`).join('\n')}
${failovers.map((f, i) => `- failover ${i + 1}: detection ${f.detectMs} ms, writes refused ${f.failoverMs} ms, lost ${f.lost}, RSS peak ${f.rss.toFixed(1)} MB (start-up ${f.startPeak.toFixed(1)} MB)`).join('\n')}
${switchovers.map((s, i) => `- switchover ${i + 1}: writes paused ${s.gapMs} ms, lost ${s.lost}`).join('\n')}
- switchover manager: RSS peak over the ${DRILLS} drills ${switchoverRun.rss.toFixed(1)} MB (start-up ${switchoverRun.startPeak.toFixed(1)} MB), CPU ${switchoverRun.cpuMsPerS.toFixed(1)} ms per second (utime+stime); highest drill peak of this run ${Math.max(...drillPeaks).toFixed(1)} MB

Notes:

- Detection is bounded by the defaults: the first failed probe comes up to one interval after the
  kill, then two more failed probes 1 s apart (and at least 1.5 s) are needed, and every reachable
  replica must have lost the primary: its IO thread down, or nothing received (no heartbeat row, no
  event, no 1 s replication heartbeat) for 2 s, which is how a hung (SIGSTOP) or cut-off primary is
  told from a live one. A hung primary also costs the failover ~1 s: a MariaDB semi-sync replica's
  IO thread, when stopped, first tries to kill its dump thread on the source
  (rpl_semi_sync_slave_kill_conn_timeout, set to 1 s). Single drills from sources (tsx, so RSS not
  comparable) on 2026-12-04: hang 3.1 s detection, 4.3 s until writes were accepted, 0 lost; partition
  3.3 s and 4.3 s, 0 lost. Tighter settings (\`--probe-interval-ms 500
  --failover-min-ms 800 --probe-timeout-ms 300\`) halve it: two single drills gave 1.3 s detection and
  1.4 s until writes were accepted again (\`BENCH_ONE=1 BENCH_MANAGER_ARGS='...'\`).
${RSS_NOTES}
`;
writeFileSync(join(root, 'bench/db-manager/README.md'), readme);
process.exit(0);
