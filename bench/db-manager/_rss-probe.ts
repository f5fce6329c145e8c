// Helper (not run by `npm run bench`): one manager against a 3-instance semi-sync cluster with the image's
// production settings, its RSS logged while it idles (IDLE_S, RSS_EVERY_S), its CPU over that time, then
// SWITCHOVERS switchovers. For comparing flags and code changes, and for the long-idle figures in README.md.
// Run: IDLE_S=600 RSS_EVERY_S=30 node --conditions=dramble-src --import tsx bench/db-manager/_rss-probe.ts
//      KUBE=1: a Kubernetes-mode manager (--election kubernetes against test/support's API server, so it loads
//      @kubernetes/client-node); MANAGER_ARGS='...' adds manager flags.
//      (BENCH_NODE_OPTIONS='...' replaces NODE_OPTIONS, BENCH_NODE_FLAGS='...' the image's node flags; NODE_FLAGS='...' adds flags, e.g. --trace-gc)
import { join } from 'node:path';
import { freePort, REPLICATION_PASSWORD, REPLICATION_USER, spawnTracked, startKubeApi, startRedis, startReplicationCluster } from '../../test/support/index.js';
import { cpuMs, productionEnv, productionNodeFlags, rssMb, sampleRss } from './manager.lib.js';

const root = new URL('../..', import.meta.url).pathname;
const env = productionEnv(root);
const flags = [...productionNodeFlags(root), ...(process.env['NODE_FLAGS'] ?? '').split(' ').filter(Boolean)];
const idleS = Number(process.env['IDLE_S'] ?? 60);
const everyS = Number(process.env['RSS_EVERY_S'] ?? 10);
const switchovers = Number(process.env['SWITCHOVERS'] ?? 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const [cluster, redis, kube] = await Promise.all([startReplicationCluster({ replicas: 2, semiSync: true }), startRedis(), process.env['KUBE'] ? startKubeApi() : undefined]);
const kubeArgs = kube ? ['--election', 'kubernetes'] : [];
const kubeEnv = kube ? { KUBECONFIG: kube.writeKubeConfig() } : {};
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const args = [...flags, join(root, 'services/db-manager/dist/main.js'), '--instances', cluster.all.map((i) => `${i.host}:${i.port}`).join(','), '--replication-user', REPLICATION_USER, '--admin', `127.0.0.1:${port}`, '--redis-url', redis.url, '--semi-sync', 'true', '--log-level', 'warn', ...kubeArgs, ...(process.env['MANAGER_ARGS'] ?? '').split(' ').filter(Boolean)];
const proc = spawnTracked(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env, ...kubeEnv, DBM_ADMIN_TOKEN: 't', DBM_REPLICATION_PASSWORD: REPLICATION_PASSWORD } });
const pid = proc.child.pid!;
const rss = sampleRss(pid);
try {
  const t0 = Date.now();
  for (;;) {
    const t = await fetch(`${url}/api/topology`).then((r) => r.json() as Promise<{ primary: string | null; instances: Array<{ healthy: boolean }> }>).catch(() => undefined);
    if (t?.primary && t.instances.every((i) => i.healthy)) break;
    if (Date.now() - t0 > 30_000) throw new Error('manager not healthy within 30 s');
    await sleep(50);
  }
  console.log(`${env['NODE_OPTIONS']} ${flags.join(' ')}: healthy after ${Date.now() - t0} ms, RSS ${rssMb(pid).toFixed(1)} MB (start-up peak ${rss.peak().toFixed(1)} MB)`);
  rss.reset();
  const cpu0 = cpuMs(pid);
  for (let s = everyS; s <= idleS; s += everyS) {
    await sleep(everyS * 1000);
    console.log(`t=${s} s RSS ${rssMb(pid).toFixed(1)} MB`);
  }
  console.log(`idle ${idleS} s: RSS peak ${rss.peak().toFixed(1)} MB, CPU ${((cpuMs(pid) - cpu0) / idleS).toFixed(1)} ms/s`);
  for (let n = 1; n <= switchovers; n++) {
    const res = await fetch(`${url}/api/switchover`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{}' });
    const body = (await res.json()) as { durationMs?: number; error?: string };
    await (await fetch(`${url}/metrics`)).text();
    console.log(`switchover ${n}: ${res.status} ${body.durationMs ?? body.error} ms, RSS ${rssMb(pid).toFixed(1)} MB`);
    await sleep(3000);
  }
  console.log(`RSS peak after start-up ${rss.peak().toFixed(1)} MB`);
} finally {
  rss.stop();
  proc.child.kill('SIGKILL');
  await proc.exited;
  await Promise.all([cluster.destroy(), redis.destroy(), kube?.close()]);
}
process.exit(0);
