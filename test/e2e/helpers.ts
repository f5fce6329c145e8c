// Helpers for the end-to-end test of `dramble up`: running the CLI, reading its cluster.json,
// HTTP through the balancer, the editor's login and API token, and steady read load.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { spawnTracked, isAlive, PID_REGISTRY } from '../support/index.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = ['--conditions=dramble-src', '--import', 'tsx', join(ROOT, 'cli/src/main.ts')];

export interface ClusterProcess {
  name: string;
  role: string;
  pid: number;
  port: number;
  url?: string;
  adminUrl?: string;
  marker: string;
}

export interface ClusterJson {
  state: string;
  balancerUrl: string;
  dashboardUrl: string;
  processes: ClusterProcess[];
}

export function readClusterJson(dir: string): ClusterJson | undefined {
  const f = join(dir, 'cluster.json');
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as ClusterJson;
  } catch {
    return undefined; // written atomically, but be lenient
  }
}

/** Every pid ever seen in cluster.json, with its marker; registered so the test runner sweeps leftovers. */
export const seen = new Map<number, string>();
export function remember(c: ClusterJson | undefined): void {
  for (const p of c?.processes ?? []) {
    if (p.pid <= 0 || p.role === 'supervisor' || seen.has(p.pid)) continue;
    seen.set(p.pid, p.marker);
    mkdirSync(PID_REGISTRY, { recursive: true });
    writeFileSync(join(PID_REGISTRY, String(p.pid)), `${p.name}\n`);
  }
}

export function ours(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(marker);
  } catch {
    return false;
  }
}

/** Last-resort cleanup: SIGKILL every cluster process still running. */
export function killLeftovers(): number[] {
  const killed: number[] = [];
  for (const [pid, marker] of seen) {
    if (!ours(pid, marker)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      /* gone */
    }
  }
  return killed;
}

export async function runCli(args: string[], timeoutMs = 120_000): Promise<{ code: number | string | null; output: string }> {
  const p = spawnTracked(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  p.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  p.child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, output };
}

export async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false> | T | undefined | false, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const agent = new Agent({ connections: 32, keepAliveTimeout: 2000 });

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export async function http(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
  const res = await request(url, { dispatcher: agent, method: (init.method ?? 'GET') as 'GET', headers: init.headers ?? {}, body: init.body ?? null, headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

export async function json<T = Record<string, unknown>>(url: string): Promise<T> {
  const r = await http(url);
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.text.slice(0, 200)}`);
  return JSON.parse(r.text) as T;
}

function cookie(res: Res, name: string): string {
  const raw = res.headers['set-cookie'];
  for (const c of Array.isArray(raw) ? raw : raw ? [raw] : []) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(c);
    if (m) return m[1]!;
  }
  throw new Error(`no ${name} cookie in the response (status ${res.status})`);
}

function hidden(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]+)"`).exec(html);
  if (!m) throw new Error(`no hidden ${name} field in the page`);
  return m[1]!;
}

/** Logs in as the editor through the site's form and creates an API token, as a person would. */
export async function editorApiToken(base: string, email: string, password: string): Promise<string> {
  const form = (o: Record<string, string>): string => new URLSearchParams(o).toString();
  const page = await http(`${base}/login`);
  if (page.status !== 200) throw new Error(`GET /login: ${page.status}`);
  const csrfCookie = cookie(page, 'dramble_csrf');
  const login = await http(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `dramble_csrf=${csrfCookie}` },
    body: form({ email, password, _csrf: hidden(page.text, '_csrf') }),
  });
  if (login.status !== 303) throw new Error(`POST /login: ${login.status} ${login.text.slice(0, 300)}`);
  const session = `dramble_session=${cookie(login, 'dramble_session')}`;
  const tokens = await http(`${base}/editor/tokens`, { headers: { cookie: session } });
  if (tokens.status !== 200) throw new Error(`GET /editor/tokens: ${tokens.status}`);
  const created = await http(`${base}/editor/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session },
    body: form({ name: 'e2e', _csrf: hidden(tokens.text, '_csrf') }),
  });
  const m = /<code id="new-token">([^<]+)<\/code>/.exec(created.text);
  if (created.status !== 201 || !m) throw new Error(`POST /editor/tokens: ${created.status}`);
  return m[1]!;
}

export interface LoadResult {
  ok: number;
  failed: Array<{ at: number; why: string }>;
  servedBy: Map<string, number>;
}

/** GETs through the balancer with `concurrency` loops until stop() is called; unique query strings skip the edge cache. */
export function readLoad(base: string, concurrency = 4, path = '/'): { peek: () => LoadResult; stop: () => Promise<LoadResult> } {
  const result: LoadResult = { ok: 0, failed: [], servedBy: new Map() };
  let running = true;
  let n = 0;
  const loop = async (): Promise<void> => {
    while (running) {
      const url = `${base}${path}${path.includes('?') ? '&' : '?'}load=${n++}`;
      try {
        const r = await http(url);
        if (r.status >= 500) result.failed.push({ at: Date.now(), why: `${r.status} ${r.text.slice(0, 120)}` });
        else {
          result.ok++;
          const by = String(r.headers['x-served-by'] ?? '');
          result.servedBy.set(by, (result.servedBy.get(by) ?? 0) + 1);
        }
      } catch (err) {
        result.failed.push({ at: Date.now(), why: (err as { code?: string }).code ?? (err as Error).message });
      }
    }
  };
  const loops = Array.from({ length: concurrency }, () => loop());
  return {
    peek: () => result,
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Fault drills against a running `dramble up` (test/e2e/primary-faults.test.ts): starting and
// stopping a cluster, careful API writers that retry under an Idempotency-Key, and direct SQL.

export interface Credentials {
  adminEmail: string;
  adminPassword: string;
  mysqlUser: string;
  mysqlPassword: string;
  appUser: string;
  appPassword: string;
}

export interface RunningCluster {
  dir: string;
  cluster: ClusterJson;
  site: string;
  credentials: Credentials;
  output: () => string;
  /** `dramble down`, then SIGCONT and SIGKILL whatever is left, then the data dir is removed. */
  stop: () => Promise<void>;
}

/** Starts `dramble up` in a fresh temp dir on free ports and waits for cluster.json to say running. */
export async function startCluster(): Promise<RunningCluster> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { freePort } = await import('../support/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'dramble-e2e-faults-'));
  const port = await freePort();
  const up = spawnTracked(process.execPath, [...CLI, 'up', '--dir', dir, '--port', String(port), '--base-port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  up.child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  up.child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited = false;
  void up.exited.then(() => (exited = true));
  const stop = async (): Promise<void> => {
    // A SIGSTOPped process would ignore SIGTERM until woken: wake everything first.
    for (const [pid, marker] of seen) if (ours(pid, marker)) try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
    if (!exited) {
      await runCli(['down', '--dir', dir], 60_000).catch(() => undefined);
      if (!exited) up.child.kill('SIGTERM');
      // unref: a pending fallback timer must not keep the test process alive after `up` exited.
      await Promise.race([up.exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
    }
    const killed = killLeftovers();
    if (killed.length > 0) console.error(`killed leftover cluster processes: ${killed.join(', ')}`);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const cluster = await until('cluster.json to say running', 150_000, () => {
      if (exited) throw Object.assign(new Error('dramble up exited'), { fatal: true });
      const c = readClusterJson(dir);
      remember(c);
      return c?.state === 'running' ? c : undefined;
    }, 250);
    const credentials = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as Credentials;
    return { dir, cluster, site: cluster.balancerUrl, credentials, output: () => output, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- dramble up output ---\n${output}`);
  }
}

export interface TopologyView {
  primary: string | null;
  instances: Array<{ id: string; port: number; role: string; healthy?: boolean; readOnly?: boolean }>;
}

/** The MySQL process the db-manager currently names primary, if any. */
export async function currentPrimary(c: RunningCluster): Promise<ClusterProcess | undefined> {
  const dbm = c.cluster.processes.find((p) => p.role === 'db-manager');
  const t = await json<TopologyView>(`${dbm?.adminUrl}/api/topology`);
  const inst = t.instances.find((i) => i.id === t.primary);
  if (!inst) return undefined;
  const port = Number(inst.port) || Number(inst.id.split(':').pop());
  return c.cluster.processes.find((p) => p.role === 'mysql' && p.port === port);
}

/** A direct connection to one MySQL server as the cluster's manager user (the app user cannot read every table). */
export async function mysqlDirect(c: RunningCluster, port: number): Promise<import('mysql2/promise').Connection> {
  const mysql = await import('mysql2/promise');
  return mysql.createConnection({ host: '127.0.0.1', port, user: c.credentials.mysqlUser, password: c.credentials.mysqlPassword, database: 'dramble', connectTimeout: 1000 });
}

export interface WriteAttempt {
  client: number;
  key: string;
  startedAt: number;
  endedAt: number;
  /** HTTP status, or 0 when the request failed or timed out without one. */
  status: number;
  replayed: boolean;
  why?: string;
}

export interface WriteKey {
  key: string;
  slug: string;
  /** When the client got 201 for it (the write is acknowledged), if it did. */
  ackedAt?: number;
  /** A retry was answered as a new write that collided with the first (409 slug taken) or 422: the key did not protect it. */
  broken?: string;
}

export interface WriterReport {
  attempts: WriteAttempt[];
  keys: WriteKey[];
}

/**
 * `clients` careful API clients, each POSTing one post after another through the balancer. Every
 * post has its own Idempotency-Key; a failed or timed-out attempt is retried with the same key and
 * the same bytes after the Retry-After the server gave (1 s without one), until it gets 201.
 * stop() lets every client finish the key it holds (up to drainMs) and returns what happened.
 */
export function carefulWriters(site: string, token: string, opts: { clients?: number; prefix: string; timeoutMs?: number; drainMs?: number }): { peek: () => WriterReport; stop: () => Promise<WriterReport> } {
  const report: WriterReport = { attempts: [], keys: [] };
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let running = true;
  let drainUntil = Infinity;
  const client = async (id: number): Promise<void> => {
    for (let seq = 0; running; seq++) {
      const slug = `${opts.prefix}-c${id}-${seq}`;
      const k: WriteKey = { key: `${slug}-${Math.random().toString(36).slice(2, 10)}`, slug };
      report.keys.push(k);
      const body = JSON.stringify({ title: `Post ${k.key}`, slug, body: `Written by client ${id} under key ${k.key}.`, status: 'published' });
      while (k.ackedAt === undefined && k.broken === undefined && Date.now() < drainUntil) {
        const a: WriteAttempt = { client: id, key: k.key, startedAt: Date.now(), endedAt: 0, status: 0, replayed: false };
        let retryAfterMs = 1000;
        try {
          const res = await request(`${site}/api/v1/posts`, {
            dispatcher: agent, method: 'POST', body,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': k.key },
            headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs),
          });
          const text = await res.body.text();
          a.status = res.statusCode;
          a.replayed = res.headers['idempotent-replayed'] === 'true';
          const ra = Number(res.headers['retry-after']);
          if (Number.isFinite(ra) && ra >= 0) retryAfterMs = ra * 1000;
          if (res.statusCode !== 201) a.why = text.slice(0, 160);
          if (res.statusCode === 201) k.ackedAt = Date.now();
          else if (res.statusCode === 422 || (res.statusCode === 409 && /slug/.test(text))) k.broken = `${res.statusCode} ${text.slice(0, 160)}`;
        } catch (err) {
          a.why = (err as { code?: string }).code ?? (err as Error).message;
        }
        a.endedAt = Date.now();
        report.attempts.push(a);
        if (k.ackedAt === undefined && k.broken === undefined) await new Promise((r) => setTimeout(r, retryAfterMs));
      }
    }
  };
  const loops = Array.from({ length: opts.clients ?? 6 }, (_, i) => client(i + 1));
  return {
    peek: () => report,
    async stop() {
      drainUntil = Date.now() + (opts.drainMs ?? 40_000);
      running = false;
      await Promise.all(loops);
      return report;
    },
  };
}

/**
 * A fresh one-shot POST (own key, never retried) every intervalMs, each running concurrently with
 * the rest: it tells when the site accepts new writes again, independent of the careful clients'
 * Retry-After waits. Its 201s are acknowledged writes like any other.
 */
export function writeProbe(site: string, token: string, prefix: string, intervalMs = 250, timeoutMs = 15_000): { stop: () => Promise<WriterReport> } {
  const report: WriterReport = { attempts: [], keys: [] };
  const inflight = new Set<Promise<void>>();
  let n = 0;
  const fire = (): void => {
    const slug = `${prefix}-p-${n++}`;
    const k: WriteKey = { key: `${slug}-${Math.random().toString(36).slice(2, 10)}`, slug };
    report.keys.push(k);
    const a: WriteAttempt = { client: 0, key: k.key, startedAt: Date.now(), endedAt: 0, status: 0, replayed: false };
    const p = request(`${site}/api/v1/posts`, {
      dispatcher: agent, method: 'POST',
      body: JSON.stringify({ title: `Probe ${k.key}`, slug, body: 'probe', status: 'published' }),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': k.key },
      headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs),
    })
      .then(async (res) => {
        const text = await res.body.text();
        a.status = res.statusCode;
        if (res.statusCode === 201) k.ackedAt = Date.now();
        else a.why = text.slice(0, 160);
      })
      .catch((err: unknown) => void (a.why = (err as { code?: string }).code ?? (err as Error).message))
      .finally(() => {
        a.endedAt = Date.now();
        report.attempts.push(a);
        inflight.delete(p);
      });
    inflight.add(p);
  };
  const timer = setInterval(fire, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...inflight]);
      return report;
    },
  };
}
