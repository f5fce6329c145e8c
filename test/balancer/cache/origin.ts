// A real origin for the RFC tests: answers per path with a handler the test gives, and records
// every request it receives (method, path, headers), so a test can say what reached it. It sends
// no Date of its own (the balancer's cache runs on the test's clock); a handler may set one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request as undiciRequest } from 'undici';
import { createLogger } from '@dramble/lib';
import { loadBalancerConfig, startBalancer, type Balancer } from '@dramble/balancer';

export interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export type OriginHandler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

export interface Origin {
  url: string;
  seen: Seen[];
  /** Requests received for a path (any method). */
  hits(path: string): Seen[];
  route(path: string, handler: OriginHandler): void;
  close(): Promise<void>;
}

export async function startOrigin(): Promise<Origin> {
  const routes = new Map<string, OriginHandler>();
  const counts = new Map<string, number>();
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    res.sendDate = false;
    const path = req.url ?? '/';
    seen.push({ method: req.method ?? '', path, headers: req.headers });
    const route = path.split('?')[0]!;
    const n = (counts.get(route) ?? 0) + 1;
    counts.set(route, n);
    req.resume();
    req.on('end', () => {
      const handler = routes.get(route);
      if (handler) return handler(req, res, n);
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end('no route');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    hits: (path) => seen.filter((s) => s.path === path),
    route: (path, handler) => void routes.set(path, handler),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A handler answering `body` with the given headers (and a Content-Length). */
export function answer(body: string | ((n: number) => string), headers: Record<string, string | string[]> = {}, status = 200): OriginHandler {
  return (req, res, n) => {
    const b = typeof body === 'function' ? body(n) : body;
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(b), ...headers });
    res.end(req.method === 'HEAD' ? undefined : b);
  };
}

export interface Edge {
  base: string;
  balancer: Balancer;
  clock: { now: number; advance(ms: number): void };
  close(): Promise<void>;
}

/** The whole balancer (startBalancer, real config loader) in front of `origin`, its cache on a test clock. */
export async function startEdge(origin: Origin, flags: string[] = []): Promise<Edge> {
  const clock = {
    now: Date.now(),
    advance(ms: number) {
      this.now += ms;
    },
  };
  const config = loadBalancerConfig({
    argv: ['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--health-interval-ms', '0', '--backend', `${origin.url}#origin`, ...flags],
    env: {},
  });
  const balancer = await startBalancer(config, { logger: createLogger({ name: 'balancer', level: 'silent' }), cacheClock: () => clock.now });
  return { base: `http://127.0.0.1:${balancer.address.port}`, balancer, clock, close: () => balancer.close(2000) };
}

export interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** X-Cache says whether the cache answered (HIT, STALE) or the origin did (MISS, BYPASS). */
  fromCache: boolean;
}

export async function fetchEdge(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Got> {
  const r = await undiciRequest(url, { method: (opts.method ?? 'GET') as 'GET', headers: opts.headers ?? {}, body: opts.body ?? null });
  const body = await r.body.text();
  const xCache = r.headers['x-cache'];
  return { status: r.statusCode, headers: r.headers, body, fromCache: xCache === 'HIT' || xCache === 'STALE' };
}
