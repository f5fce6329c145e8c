// Benchmark of one dramble-app process (the built dist/, as deployed): requests/s, latency, CPU per
// request and RSS for an anonymous page answered from the Redis page cache, and for the same page
// rendered from MySQL every time (page cache off). Load from wrk (C, one thread), rounds alternating
// between the two pages, medians reported. Writes bench/app/README.md (or BENCH_OUT).
// Run: npm run bench -- app   (or: node --conditions=dramble-src --import tsx bench/app/pages.ts)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { cpuMicros, median, medianBy, processTree, requireWrk, wrk } from '../balancer/wrk.lib.js';
import { freePort, spawnTracked, startRedis, startReplicationCluster } from '../../test/support/index.js';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 2);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const RUNS = Number(process.env['BENCH_ROUNDS'] ?? process.env['BENCH_RUNS'] ?? 5);
const root = new URL('../../', import.meta.url).pathname;
const OUT = process.env['BENCH_OUT'] || `${root}bench/app/README.md`;
for (const [k, v, min] of [['BENCH_DURATION', DURATION, 1], ['BENCH_WARMUP', WARMUP, 0], ['BENCH_CONNECTIONS', CONNECTIONS, 1], ['BENCH_ROUNDS', RUNS, 1]] as const) {
  if (!Number.isInteger(v) || v < min) throw new Error(`${k} must be a whole number >= ${min}, got ${v}`);
}
// The app runs with the memory settings its container image sets (services/app/Dockerfile):
// BENCH_APP_NODE_OPTIONS='' and MALLOC_ARENA_MAX='' measure Node's defaults instead.
const NODE_OPTIONS = process.env['BENCH_APP_NODE_OPTIONS'] ?? '--max-semi-space-size=1';
const ARENAS = process.env['MALLOC_ARENA_MAX'] ?? '2';
const PATH = '/posts/the-hardware';
const GOAL_RPS = 5000;
const GOAL_RSS_MB = 120;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function waitUp(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
  rssStart: number;
  rssWarm: number;
  rssPeak: number;
  errors: number;
  bytes: number;
}

interface Servers {
  primary: number;
  replica: number;
  redisUrl: string;
}

function startAppProcess(name: string, cacheTtl: number, s: Servers, port: number, admin: number) {
  return spawnTracked(process.execPath, [
    'services/app/dist/main.js',
    '--listen', `127.0.0.1:${port}`,
    '--admin', `127.0.0.1:${admin}`,
    '--mysql-url', `mysql://root@127.0.0.1:${s.primary}/bench`,
    '--mysql-replica-url', `mysql://root@127.0.0.1:${s.replica}/bench`,
    '--redis-url', s.redisUrl,
    '--page-cache-ttl-seconds', String(cacheTtl),
    '--log-level', 'warn',
    '--instance-name', `bench-${name}`,
  ], { cwd: root, stdio: 'ignore', env: { PATH: process.env['PATH'], NODE_ENV: 'production', NODE_OPTIONS, ...(ARENAS ? { MALLOC_ARENA_MAX: ARENAS } : {}) } });
}

async function run(name: string, cacheTtl: number, s: Servers): Promise<Run> {
  const [port, admin] = [await freePort(), await freePort()];
  const app = startAppProcess(name, cacheTtl, s, port, admin);
  const pid = app.child.pid!;
  try {
    const url = `http://127.0.0.1:${port}${PATH}`;
    await waitUp(url);
    const rssStart = rssMb(pid);
    const bytes = (await (await fetch(url)).arrayBuffer()).byteLength;
    if (WARMUP > 0) await wrk(url, WARMUP, CONNECTIONS); // warm-up (JIT, pools, cache)
    const rssWarm = rssMb(pid);
    let rssPeak = rssWarm;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(pid))), 200);
    // One process (the app has no workers); the tree is read in case that ever changes.
    const pids = processTree(pid);
    const cpu0 = cpuMicros(pids);
    const r = await wrk(url, DURATION, CONNECTIONS);
    const cpu1 = cpuMicros(pids);
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, rssMb(pid));
    return { rps: Math.round(r.rps), p50: r.p50Ms, p99: r.p99Ms, cpuUs: r.requests ? (cpu1 - cpu0) / r.requests : 0, rssStart, rssWarm, rssPeak, errors: r.errors + r.non2xx, bytes };
  } finally {
    app.child.kill('SIGTERM');
    await app.exited;
  }
}

/** Migrations and the starter content, once, by a process that is not measured (as on a running cluster). */
async function seed(s: Servers): Promise<void> {
  const [port, admin] = [await freePort(), await freePort()];
  const app = startAppProcess('seed', 0, s, port, admin);
  try {
    await waitUp(`http://127.0.0.1:${port}${PATH}`);
  } finally {
    app.child.kill('SIGTERM');
    await app.exited;
  }
}

requireWrk();
execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-b', 'services/app'], { cwd: root, stdio: 'inherit' });
const loadBefore = loadavg()[0]!;
const [cluster, redis] = await Promise.all([startReplicationCluster({ replicas: 1 }), startRedis()]);
const scenarios = [
  { name: 'cached (Redis page cache)', ttl: 300, runs: [] as Run[] },
  { name: 'uncached (MySQL replica + render)', ttl: 0, runs: [] as Run[] },
];
try {
  const servers = { primary: cluster.primary.port, replica: cluster.replicas[0]!.port, redisUrl: redis.url };
  await seed(servers);
  // Interleaved, so a burst of load from something else on the machine hits both alike.
  for (let i = 0; i < RUNS; i++) {
    for (const sc of scenarios) {
      const r = await run(sc.name, sc.ttl, servers);
      sc.runs.push(r);
      console.log(`${sc.name}, round ${i + 1}: ${r.rps} req/s, p99 ${r.p99.toFixed(2)} ms, ${r.cpuUs.toFixed(1)} µs CPU/request, RSS peak ${r.rssPeak} MB, errors ${r.errors}`);
    }
  }
} finally {
  await Promise.all([cluster.destroy(), redis.destroy()]);
}
const loadAfter = loadavg()[0]!;

const settings = `NODE_OPTIONS=${NODE_OPTIONS ? `"${NODE_OPTIONS}"` : '(none)'} MALLOC_ARENA_MAX=${ARENAS || '(glibc default)'}`;
const production = NODE_OPTIONS === '--max-semi-space-size=1' && ARENAS === '2';
const table = [
  '| page | requests/s (median) | requests/s (range) | p50 ms | p99 ms | CPU µs/request | RSS at start MB | RSS after warm-up MB | RSS peak MB (max) | errors + non-2xx |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...scenarios.map(({ name, runs }) => {
    const m = (f: (r: Run) => number) => Math.round(median(runs.map(f)));
    const mid = medianBy(runs, (r) => r.rps);
    const rps = runs.map((r) => r.rps);
    return `| ${name} | ${mid.rps} | ${Math.min(...rps)}–${Math.max(...rps)} | ${mid.p50.toFixed(2)} | ${mid.p99.toFixed(2)} | ${median(runs.map((r) => r.cpuUs)).toFixed(1)} | ${m((r) => r.rssStart)} | ${m((r) => r.rssWarm)} | ${Math.max(...runs.map((r) => r.rssPeak))} | ${runs.reduce((a, r) => a + r.errors, 0)} |`;
  }),
].join('\n');
const cached = scenarios[0]!.runs;
const cachedRps = medianBy(cached, (r) => r.rps).rps;
const cachedRss = Math.max(...cached.map((r) => r.rssPeak));
console.log(`\nGET ${PATH}, ${CONNECTIONS} connections, ${DURATION} s x ${RUNS} rounds, one app process, node ${process.version}, ${settings}\n\n${table}`);

const readme = `# App benchmark: cached and uncached pages, one process

Written by \`bench/app/pages.ts\`; do not edit by hand.

\`\`\`
npm run bench -- app
# or: node --conditions=dramble-src --import tsx bench/app/pages.ts
# knobs: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 2), BENCH_CONNECTIONS (default 32),
#        BENCH_ROUNDS (default 5), BENCH_OUT (file to write instead of this README),
#        BENCH_APP_NODE_OPTIONS (default "--max-semi-space-size=1"), MALLOC_ARENA_MAX (default 2);
#        BENCH_APP_NODE_OPTIONS= MALLOC_ARENA_MAX= (empty) measures Node's and glibc's defaults
\`\`\`

The script builds \`services/app\` (\`tsc -b\`), starts a MariaDB primary + replica and Redis from
\`test/support\`, lets one app process apply the migrations and the starter content (not measured),
then runs the built \`services/app/dist/main.js\` as one process per run and drives
\`GET ${PATH}\` (a seeded post, ${cached[0]?.bytes ?? '?'} bytes of HTML) with
\`wrk -t1 -c${CONNECTIONS} -d${DURATION}s --latency\` (wrk from Debian: a C load generator, one thread, so the load
tool does not take the cores a Node one would) after a ${WARMUP} s warm-up:

* **cached**: \`--page-cache-ttl-seconds 300\`, every request answered from the Redis page cache
  (one Redis GET; the hit is sent before express runs, see \`services/app/src/routes/cached-hit.ts\`);
* **uncached**: \`--page-cache-ttl-seconds 0\`, every request reads MySQL (replica) and renders.

The app process runs with the memory settings of its container image (\`services/app/Dockerfile\`:
\`NODE_OPTIONS=--max-semi-space-size=1 MALLOC_ARENA_MAX=2\`) unless the knobs above say otherwise.
RSS is read from \`/proc/<pid>/status\`: at start, after warm-up, and the peak during the run
(sampled every 200 ms). CPU per request is the app process's utime + stime (\`/proc/<pid>/stat\`)
over the measured run divided by the requests wrk completed: it moves less than requests/s when
other work shares the machine's cores. The ${RUNS} rounds of the two pages alternate; each row shows
its median round by requests/s (p50 and p99 are that round's), the requests/s range, and the
medians of CPU per request and of the RSS readings (the peak is the highest of all rounds).

## Last run

${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'},
load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after; app settings: ${settings}${production ? ' (as in the image)' : ''}.
The load tool, Redis, both MariaDB servers and the app share the cores.

${table}

Against the goals (cached page, one process${production ? '' : ', with the settings above'}):
* requests/s >= ${GOAL_RPS.toLocaleString('en')}: ${cachedRps >= GOAL_RPS ? 'met' : 'not met'} (median ${cachedRps});
* RSS <= ${GOAL_RSS_MB} MB under that load: ${cachedRss <= GOAL_RSS_MB ? 'met' : 'not met'} (peak ${cachedRss} MB).

## Earlier figures (same 2-core machine, 2026-11-25, before the cache-hit fast path; autocannon)

Express handled every request (helmet's middleware chain, the session check, the router), one run:

| settings | page | requests/s | p99 ms | CPU µs/request | RSS peak MB |
| --- | --- | ---: | ---: | ---: | ---: |
| Node defaults | cached | 6,870 | 19 | ~160 | 183 |
| Node defaults | uncached | 2,493 | 27 | ~460 | 206 |
| as in the image | cached | 5,903 | 20 | ~180 | 155 |
| as in the image | uncached | 2,348 | 31 | | 168 |

An older, slower machine gave 3,073 (cached) and 947 (uncached) requests/s with Node defaults.
`;
writeFileSync(OUT, readme);
console.log(`\nwrote ${OUT}`);
process.exit(0);
