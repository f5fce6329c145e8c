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
