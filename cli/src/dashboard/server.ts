// The dashboard's own small HTTP server (started by `dramble up`): static page, a server-sent
// event stream of cluster snapshots, and the control API `dramble restart` talks to.
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { ClusterFile, Credentials } from '../state.js';
import type { Supervisor } from '../supervisor.js';
import { Collector, type Snapshot } from './collector.js';

const FILES: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/dashboard.js': ['dashboard.js', 'text/javascript; charset=utf-8'],
  '/dashboard.css': ['dashboard.css', 'text/css; charset=utf-8'],
};

/** public/ beside this file (source), or cli/src/dashboard/public when running from dist/. */
function publicDir(): string {
  const here = fileURLToPath(new URL('./public/', import.meta.url));
  return existsSync(here) ? here : fileURLToPath(new URL('../../src/dashboard/public/', import.meta.url));
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface DashboardOptions {
  port: number;
  host?: string;
  cluster: ClusterFile;
  credentials: Credentials;
  supervisor?: Supervisor;
  intervalMs?: number;
  onPrimary?: (name: string) => void;
}

export interface DashboardHandle {
  url: string;
  collector: Collector;
  close(): Promise<void>;
}

function bearerOk(req: http.IncomingMessage, token: string): boolean {
  const got = Buffer.from(req.headers.authorization ?? '');
  const want = Buffer.from(`Bearer ${token}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let s = '';
  for await (const chunk of req) {
    s += String(chunk);
    if (s.length > 64 * 1024) throw new Error('body too large');
  }
  return s ? (JSON.parse(s) as Record<string, unknown>) : {};
}

export async function startDashboard(o: DashboardOptions): Promise<DashboardHandle> {
  const dir = publicDir();
  const collector = new Collector(o.cluster, o.onPrimary);
  const clients = new Set<http.ServerResponse>();
  let latest: Snapshot | undefined;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const file = FILES[url.pathname];
    if (req.method === 'GET' && file) {
      res.writeHead(200, { 'content-type': file[1], 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' });
      res.end(readFileSync(`${dir}${file[0]}`));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      if (latest) res.write(`data: ${JSON.stringify(latest)}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/state') {
      if (latest) json(res, 200, latest);
      else void collector.collect().then((s) => json(res, 200, s));
      return;
    }
    const m = /^\/api\/control\/(restart)$/.exec(url.pathname);
    if (req.method === 'POST' && m) {
      if (!bearerOk(req, o.credentials.controlToken)) return json(res, 401, { error: 'bearer token required' });
      void readBody(req)
        .then(async (body) => {
          const name = String(body['name'] ?? '');
          if (!o.supervisor) return json(res, 503, { error: 'no supervisor' });
          collector.note('restart', `restarting ${name}`);
          const p = await o.supervisor.restart(name);
          collector.note('up', `${name} restarted (pid ${p.pid})`);
          json(res, 200, { name: p.name, pid: p.pid });
        })
        .catch((err: unknown) => json(res, 409, { error: (err as Error).message }));
      return;
    }
    json(res, 404, { error: 'not found' });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      latest = await collector.collect();
      const frame = `data: ${JSON.stringify(latest)}\n\n`;
      for (const c of clients) c.write(frame);
    } catch {
      // a failed poll shows up as stale data; the next tick tries again
    }
    if (!stopped) timer = setTimeout(() => void tick(), o.intervalMs ?? 500);
  };
  void tick();

  return {
    url: `http://${addr.address}:${addr.port}`,
    collector,
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const c of clients) c.end();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
