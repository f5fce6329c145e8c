// A real backend http server and the whole balancer in front of it (startBalancer), its cache on
// a clock the test moves.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { Registry } from 'prom-client';
import { createLogger, loadConfig } from '@dramble/lib';
import { loadBalancerConfig, startBalancer } from '@dramble/balancer';
import { cacheSettings, type CacheLayer, type CacheSettings } from '../../../services/balancer/src/cache/index.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface Backend {
  url: string;
  port: number;
  /** Requests the backend received, by path (with query). */
  hits: Map<string, number>;
  total(): number;
  route(path: string, handler: Handler): void;
  close(): Promise<void>;
}

export async function startBackend(port = 0): Promise<Backend> {
  const routes = new Map<string, Handler>();
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    // The front runs on a fake clock: a real Date header would make entries look older (RFC 9111
    // §4.2.3 apparent age) as soon as a test moves that clock forward.
    res.sendDate = false;
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const handler = routes.get(path.split('?')[0]!);
    if (handler) return handler(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no route');
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const p = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${p}`,
    port: p,
    hits,
    total: () => [...hits.values()].reduce((a, b) => a + b, 0),
    route: (path, handler) => void routes.set(path, handler),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export function testSettings(overrides: Partial<CacheSettings> = {}): CacheSettings {
  return { ...loadConfig(cacheSettings, { argv: [], env: {} }), ...overrides };
}

export interface Front {
  url: string;
  layer: CacheLayer;
  registry: Registry;
  /** Requests that reached the balancer. */
  entered(): number;
  clock: { now: number; advance(ms: number): void };
  close(): Promise<void>;
}

/**
 * The whole balancer (startBalancer with the real config loader) in front of `backendUrl`, named
 * pi-1, its cache on a test clock. `compress` keeps the balancer's compression on (off otherwise,
 * so tests see the bodies as the backend sent them).
 */
export async function startFront(backendUrl: string, overrides: Partial<CacheSettings> = {}, opts: { compress?: boolean } = {}): Promise<Front> {
  const clock = {
    now: Date.now(),
    advance(ms: number) {
      this.now += ms;
    },
  };
  const base = loadBalancerConfig({
    argv: ['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--health-interval-ms', '0', '--backend', `${backendUrl}#pi-1`, '--retries', '0'],
    env: {},
  });
  const config = { ...base, ...overrides, compression: opts.compress ?? false, compressionMinBytes: opts.compress ? 64 : base.compressionMinBytes };
  const balancer = await startBalancer(config, { logger: createLogger({ name: 'balancer-test', level: 'silent' }), cacheClock: () => clock.now });
  let entered = 0;
  balancer.server.on('request', () => entered++);
  return {
    url: `http://127.0.0.1:${balancer.address.port}`,
    layer: balancer.cache,
    registry: balancer.registry,
    entered: () => entered,
    clock,
    close: () => balancer.close(2000),
  };
}

export interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  raw: Buffer;
}

export async function get(url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET'): Promise<Got> {
  const r = await request(url, { method, headers });
  const raw = Buffer.from(await r.body.arrayBuffer());
  return { status: r.statusCode, headers: r.headers, body: raw.toString('utf8'), raw };
}

/** Polls until the condition holds, failing after the deadline (for things that finish in the background). */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

/** A backend handler answering a fixed body with the given headers. */
export function respond(body: string | (() => string), headers: Record<string, string | string[]> = {}, status = 200): Handler {
  return (_req, res) => {
    const b = typeof body === 'function' ? body() : body;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(b), ...headers });
    res.end(b);
  };
}
