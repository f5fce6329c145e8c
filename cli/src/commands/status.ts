// `dramble status [--json]`: every process and its health, the MySQL topology with lag, and the
// balancer's backends.
import { answersOk, backendHealthy, fetchBackends, fetchTopology, instanceOnPort, type Backend, type Topology } from '../api.js';
import { ownsPid } from '../local/process.js';
import { mariadbAnswers } from '../local/mariadb.js';
import { redisAnswers } from '../local/redis.js';
import { table, type Say } from '../output.js';
import type { ClusterFile, Credentials, ProcessEntry } from '../state.js';
import { loadCluster } from './common.js';

export interface ProcessStatus {
  name: string;
  role: string;
  pid: number;
  port: number;
  alive: boolean;
  /** healthy = does its job (readyz / accepts logins / PONG); alive = process exists. */
  health: 'ready' | 'not-ready' | 'down';
  url?: string;
  adminUrl?: string;
}

export interface StatusReport {
  dir: string;
  state: ClusterFile['state'];
  balancerUrl?: string;
  dashboardUrl?: string;
  processes: ProcessStatus[];
  topology: (Topology & { names: Record<string, string> }) | null;
  backends: Backend[] | null;
  errors: string[];
}

async function health(p: ProcessEntry, c: Credentials): Promise<ProcessStatus['health']> {
  if (!ownsPid(p.pid, p.marker, p.startTime)) return 'down';
  let ok: boolean;
  if (p.role === 'mysql') ok = await mariadbAnswers(p.port, c.mysqlUser, c.mysqlPassword);
  else if (p.role === 'redis') ok = await redisAnswers(p.port);
  else if (p.adminUrl) ok = await answersOk(`${p.adminUrl}/readyz`);
  else ok = true;
  return ok ? 'ready' : 'not-ready';
}

export async function collectStatus(dir: string): Promise<StatusReport> {
  const { cluster, credentials } = loadCluster(dir);
  const errors: string[] = [];
  const processes = await Promise.all(
    cluster.processes.map(async (p): Promise<ProcessStatus> => {
      const s: ProcessStatus = { name: p.name, role: p.role, pid: p.pid, port: p.port, alive: ownsPid(p.pid, p.marker, p.startTime), health: await health(p, credentials) };
      if (p.url) s.url = p.url;
      if (p.adminUrl) s.adminUrl = p.adminUrl;
      return s;
    }),
  );
  const dbm = cluster.processes.find((p) => p.role === 'db-manager');
  const lb = cluster.processes.find((p) => p.role === 'balancer');
  const [topology, backends] = await Promise.all([
    dbm?.adminUrl ? fetchTopology(dbm.adminUrl).catch((e: Error) => void errors.push(`db-manager: ${e.message}`)) : undefined,
    lb?.adminUrl ? fetchBackends(lb.adminUrl).catch((e: Error) => void errors.push(`balancer: ${e.message}`)) : undefined,
  ]);
  const names: Record<string, string> = {};
  if (topology) for (const m of cluster.mysql.instances) {
    const i = instanceOnPort(topology, m.port);
    if (i) names[i.id] = m.name;
  }
  return {
    dir: cluster.dir,
    state: cluster.state,
    ...(cluster.balancerUrl ? { balancerUrl: cluster.balancerUrl } : {}),
    ...(cluster.dashboardUrl ? { dashboardUrl: cluster.dashboardUrl } : {}),
    processes,
    topology: topology ? { ...topology, names } : null,
    backends: backends ?? null,
    errors,
  };
}

export function formatStatus(r: StatusReport): string {
  const lines: string[] = [`cluster ${r.dir}: ${r.state}${r.balancerUrl ? `  site ${r.balancerUrl}` : ''}${r.dashboardUrl ? `  dashboard ${r.dashboardUrl}` : ''}`, ''];
  lines.push(table([['PROCESS', 'ROLE', 'PID', 'PORT', 'HEALTH', 'URL'], ...r.processes.map((p) => [p.name, p.role, String(p.pid), String(p.port), p.health, p.adminUrl ?? p.url ?? ''])]));
  lines.push('', 'MySQL topology' + (r.topology?.epoch !== undefined ? ` (epoch ${r.topology.epoch})` : ''));
  if (r.topology) {
    const t = r.topology;
    lines.push(
      table([
        ['INSTANCE', 'NAME', 'ROLE', 'READ-ONLY', 'LAG', 'HEALTHY', 'GTID'],
        ...t.instances.map((i) => [i.id, t.names[i.id] ?? '', i.id === t.primary ? 'primary' : i.role, String(i.readOnly ?? '?'), i.lagSeconds === null || i.lagSeconds === undefined ? '-' : `${i.lagSeconds} s`, String(i.healthy ?? '?'), i.gtid ?? '']),
      ]),
    );
    if (t.problem) lines.push(`problem: ${typeof t.problem === 'string' ? t.problem : JSON.stringify(t.problem)}`);
  } else lines.push('  (db-manager not answering)');
  lines.push('', 'Balancer backends');
  if (r.backends) lines.push(table([['BACKEND', 'URL', 'HEALTH', 'REQUESTS'], ...r.backends.map((b) => [String(b.name ?? '?'), String(b.url ?? ''), String(b.health ?? b.state ?? (backendHealthy(b) ? 'healthy' : 'down')), String(b.requests ?? '')])]));
  else lines.push('  (balancer not answering)');
  if (r.errors.length) lines.push('', ...r.errors.map((e) => `! ${e}`));
  return lines.join('\n');
}

export async function status(dir: string, json: boolean, out: Say): Promise<number> {
  const r = await collectStatus(dir);
  out(json ? JSON.stringify(r, null, 2) : formatStatus(r));
  return r.processes.every((p) => p.health === 'ready') ? 0 : 1;
}
