// Benchmark of one dramble-app process (the built dist/, as deployed): requests/s, p99 and RSS for
// an anonymous page answered from the Redis page cache, and for the same page rendered from MySQL
// every time (page cache off). Run: node --conditions=dramble-src --import tsx bench/app/pages.ts
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { freePort, spawnTracked, startRedis, startReplicationCluster } from '../../test/support/index.js';

const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const PATH = '/posts/the-hardware';
const root = new URL('../../', import.meta.url).pathname;

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

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  rssStart: number;
  rssIdle: number;
  rssPeak: number;
  errors: number;
}

async function run(name: string, cacheTtl: number, mysql: { primary: number; replica: number }, redisUrl: string): Promise<Row> {
  const [port, admin] = [await freePort(), await freePort()];
  const app = spawnTracked(process.execPath, [
    'services/app/dist/main.js',
    '--listen', `127.0.0.1:${port}`,
    '--admin', `127.0.0.1:${admin}`,
    '--mysql-url', `mysql://root@127.0.0.1:${mysql.primary}/bench`,
    '--mysql-replica-url', `mysql://root@127.0.0.1:${mysql.replica}/bench`,
    '--redis-url', redisUrl,
    '--page-cache-ttl-seconds', String(cacheTtl),
    '--log-level', 'warn',
    '--instance-name', `bench-${name}`,
  ], { cwd: root, stdio: 'ignore', env: { PATH: process.env['PATH'], NODE_ENV: 'production', NODE_OPTIONS: process.env['BENCH_APP_NODE_OPTIONS'] ?? '', ...(process.env['MALLOC_ARENA_MAX'] ? { MALLOC_ARENA_MAX: process.env['MALLOC_ARENA_MAX'] } : {}) } });
  const pid = app.child.pid!;
  try {
    const url = `http://127.0.0.1:${port}${PATH}`;
    await waitUp(url);
    const rssStart = rssMb(pid);
    await autocannon({ url, connections: CONNECTIONS, duration: 2 }); // warm-up (JIT, pools, cache)
    const rssIdle = rssMb(pid);
    let rssPeak = rssIdle;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(pid))), 200);
    const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION });
    clearInterval(sampler);
    return { name, rssStart, rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, rssIdle, rssPeak, errors: r.errors + r.timeouts + r.non2xx };
  } finally {
    app.child.kill('SIGTERM');
    await app.exited;
  }
}

execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-b', 'services/app'], { cwd: root, stdio: 'inherit' });
const [cluster, redis] = await Promise.all([startReplicationCluster({ replicas: 1 }), startRedis()]);
try {
  const mysql = { primary: cluster.primary.port, replica: cluster.replicas[0]!.port };
  const rows = [await run('cached (Redis page cache)', 300, mysql, redis.url), await run('uncached (MySQL replica + render)', 0, mysql, redis.url)];
  console.log(`\nGET ${PATH}, ${CONNECTIONS} connections, ${DURATION} s, one app process, node ${process.version}, NODE_OPTIONS=${process.env['BENCH_APP_NODE_OPTIONS'] ?? ''}\n`);
  console.log('| page | requests/s | p50 ms | p99 ms | RSS at start MB | RSS after warm-up MB | RSS peak MB | errors |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.name} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.rssStart} | ${r.rssIdle} | ${r.rssPeak} | ${r.errors} |`);
} finally {
  await Promise.all([cluster.destroy(), redis.destroy()]);
}
process.exit(0);
