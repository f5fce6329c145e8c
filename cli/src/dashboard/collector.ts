// Polls the services' admin APIs (balancer backends and metrics, db-manager topology and events)
// into one snapshot for the dashboard, and keeps a timeline of primary changes and process exits.
import { backendHealthy, fetchBackends, fetchTopology, getJson, getText, instanceOnPort, type Backend, type Topology } from '../api.js';
import { isAlive } from '../local/process.js';
import type { ClusterFile } from '../state.js';
import { matchBackend, requestsPerBackend, totalRequests } from './metrics.js';

export interface AppTile {
  name: string;
  url?: string;
  alive: boolean;
  /** Health as the balancer sees it; null when the balancer does not answer. */
  healthy: boolean | null;
  requests: number;
  rps: number;
}

export interface MySQLNode {
  name: string;
  id: string;
  port: number;
  alive: boolean;
  role: string;
  readOnly: boolean | null;
  lagSeconds: number | null;
  healthy: boolean | null;
  gtid: string;
}

export interface TimelineEvent {
  at: string;
  kind: string;
  text: string;
}

export interface Snapshot {
  at: string;
  balancerUrl?: string;
  apps: AppTile[];
  backends: Backend[];
  mysql: MySQLNode[];
  primary: string | null;
  epoch: number | null;
  problem: unknown;
  processes: Array<{ name: string; role: string; pid: number; alive: boolean; port: number }>;
  timeline: TimelineEvent[];
  totalRps: number;
  errors: string[];
}

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** db-manager events in whatever shape: an array or { events }, each with a time, a kind and a text. */
export function normalizeEvents(raw: unknown): TimelineEvent[] {
  const list = Array.isArray(raw) ? raw : Array.isArray((raw as { events?: unknown })?.events) ? (raw as { events: unknown[] }).events : [];
  return list.map((e) => {
    const o = (e ?? {}) as Record<string, unknown>;
    const at = o['at'] ?? o['time'] ?? o['ts'] ?? o['timestamp'] ?? o['date'];
    const atIso = typeof at === 'number' ? new Date(at).toISOString() : str(at) || new Date(0).toISOString();
    const kind = str(o['type'] ?? o['kind'] ?? o['event'] ?? o['code'] ?? 'event');
    const text = str(o['message'] ?? o['text'] ?? o['summary'] ?? o['description'] ?? o['detail']) || JSON.stringify(o);
    return { at: atIso, kind, text };
  });
}

export class Collector {
  private last = new Map<string, { n: number; t: number }>();
  private local: TimelineEvent[] = [];
  private lastPrimary: string | null | undefined;
  private lastAlive = new Map<string, boolean>();

  constructor(
    private readonly cluster: ClusterFile,
    private readonly onPrimary?: (name: string) => void,
  ) {}

  note(kind: string, text: string): void {
    this.local.push({ at: new Date().toISOString(), kind, text });
    if (this.local.length > 200) this.local.shift();
  }

  async collect(): Promise<Snapshot> {
    const errors: string[] = [];
    const procs = this.cluster.processes;
    const lb = procs.find((p) => p.role === 'balancer');
    const dbm = procs.find((p) => p.role === 'db-manager');
    const appProcs = procs.filter((p) => p.role === 'app');
    const soft = <T>(what: string, p: Promise<T>): Promise<T | undefined> =>
      p.catch((err: unknown) => {
        errors.push(`${what}: ${(err as Error).message}`);
        return undefined;
      });

    const [backends, lbMetrics, topology, events] = await Promise.all([
      lb?.adminUrl && isAlive(lb.pid) ? soft('balancer backends', fetchBackends(lb.adminUrl)) : undefined,
      lb?.adminUrl && isAlive(lb.pid) ? soft('balancer metrics', getText(`${lb.adminUrl}/metrics`).then((r) => r.text)) : undefined,
      dbm?.adminUrl && isAlive(dbm.pid) ? soft('db-manager topology', fetchTopology(dbm.adminUrl)) : undefined,
      dbm?.adminUrl && isAlive(dbm.pid) ? soft('db-manager events', getJson<unknown>(`${dbm.adminUrl}/api/events`)) : undefined,
    ]);
    const perBackend = lbMetrics ? requestsPerBackend(lbMetrics) : new Map<string, number>();
    const now = Date.now();
    const apps: AppTile[] = [];
    for (const p of appProcs) {
      const app = { name: p.name, ...(p.url ? { url: p.url } : {}) };
      const b = backends?.find((x) => matchBackend(str(x.name ?? x['id'] ?? x.url), app) || (x.url !== undefined && matchBackend(x.url, app)));
      let requests: number | undefined = typeof b?.requests === 'number' ? b.requests : undefined;
      if (requests === undefined) for (const [label, n] of perBackend) if (matchBackend(label, app)) requests = (requests ?? 0) + n;
      if (requests === undefined && p.adminUrl && isAlive(p.pid)) {
        const t = await soft(`${p.name} metrics`, getText(`${p.adminUrl}/metrics`, 1000));
        requests = t ? totalRequests(t.text) : undefined;
      }
      const prev = this.last.get(p.name);
      const n = requests ?? prev?.n ?? 0;
      const rps = prev && now > prev.t && n >= prev.n ? ((n - prev.n) * 1000) / (now - prev.t) : 0;
      this.last.set(p.name, { n, t: now });
      apps.push({ name: p.name, ...(p.url ? { url: p.url } : {}), alive: isAlive(p.pid), healthy: b ? backendHealthy(b) : null, requests: n, rps });
    }
    const mysql = this.mysqlNodes(topology);
    this.trackChanges(topology, mysql);
    // Bootstrap/failover steps are detail; the timeline keeps the events themselves.
    const timeline = [...normalizeEvents(events).filter((e) => e.kind !== 'step'), ...this.local].sort((a, b) => a.at.localeCompare(b.at)).slice(-100);
    return {
      at: new Date(now).toISOString(),
      ...(this.cluster.balancerUrl ? { balancerUrl: this.cluster.balancerUrl } : {}),
      apps,
      backends: backends ?? [],
      mysql,
      primary: mysql.find((m) => m.role === 'primary')?.name ?? null,
      epoch: topology?.epoch ?? null,
      problem: topology?.problem ?? null,
      processes: procs.map((p) => ({ name: p.name, role: p.role, pid: p.pid, alive: isAlive(p.pid), port: p.port })),
      timeline,
      totalRps: apps.reduce((a, x) => a + x.rps, 0),
      errors,
    };
  }

  private mysqlNodes(t: Topology | undefined): MySQLNode[] {
    return this.cluster.mysql.instances.map((m) => {
      const proc = this.cluster.processes.find((p) => p.name === m.name);
      const i = t ? instanceOnPort(t, m.port) : undefined;
      const role = i ? (i.id === t?.primary ? 'primary' : i.role || 'replica') : 'unknown';
      return {
        name: m.name,
        id: i?.id ?? `${m.host}:${m.port}`,
        port: m.port,
        alive: proc ? isAlive(proc.pid) : true,
        role,
        readOnly: i?.readOnly ?? null,
        lagSeconds: typeof i?.lagSeconds === 'number' ? i.lagSeconds : null,
        healthy: typeof i?.healthy === 'boolean' ? i.healthy : null,
        gtid: i?.gtid ?? '',
      };
    });
  }

  private trackChanges(t: Topology | undefined, mysql: MySQLNode[]): void {
    const primary = mysql.find((m) => m.role === 'primary')?.name ?? null;
    if (t && this.lastPrimary !== undefined && primary !== this.lastPrimary) {
      this.note('primary', primary ? `${primary} is now the primary${this.lastPrimary ? ` (was ${this.lastPrimary})` : ''}` : 'no primary');
    }
    if (t) this.lastPrimary = primary;
    if (t && primary) this.onPrimary?.(primary);
    for (const p of this.cluster.processes) {
      const alive = isAlive(p.pid);
      const was = this.lastAlive.get(`${p.name}:${p.pid}`);
      if (was === true && !alive) this.note('down', `${p.name} (pid ${p.pid}) stopped`);
      this.lastAlive.set(`${p.name}:${p.pid}`, alive);
    }
  }
}
