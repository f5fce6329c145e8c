// A real backend http server and a small front server that runs the cache layer with a fake
// fetchUpstream/writeUpstream pair built from undici requests (the core's engine is tested end to end elsewhere).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { Pool, request } from 'undici';
import { Registry } from 'prom-client';
import { createLogger } from '@dramble/lib';
import { createCacheLayer, cacheSettings, type CacheLayer, type CacheSettings } from '../../../services/balancer/src/cache/index.js';
import { maybeCompress } from '../../../services/balancer/src/compression/index.js';
import { asReadable } from '../../../services/balancer/src/forward/upstream-body.js';
import { BackendError, type FetchUpstream, type UpstreamResponse, type WriteUpstream } from '../../../services/balancer/src/forward/types.js';
import { loadConfig } from '@dramble/lib';

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

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization']);

function endToEnd(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export function fakeFetchUpstream(backendUrl: string): { fetch: FetchUpstream; close(): Promise<void> } {
  const pool = new Pool(backendUrl, { connections: 32 });
  const fetch: FetchUpstream = async (req, opts) => {
    const method = (opts?.method ?? req.method ?? 'GET') as 'GET';
    const headers = { ...endToEnd(req.headers), ...opts?.headers };
    delete headers['host'];
    try {
      const r = await pool.request({ path: req.url ?? '/', method, headers, body: method === 'GET' || method === 'HEAD' ? null : req });
      return { status: r.statusCode, headers: endToEnd(r.headers), body: r.body, backend: { id: backendUrl, name: 'pi-1' }, retries: 0 } satisfies UpstreamResponse;
    } catch (err) {
      throw new BackendError('connect', 502, `backend ${backendUrl} failed: ${(err as Error).message}`, undefined, 0, { cause: err });
    }
  };
  return { fetch, close: () => pool.close() };
}

export function fakeWriteUpstream(compress = false): WriteUpstream {
  return (res, upstream, extra) =>
    new Promise<void>((resolve) => {
      const out = compress ? maybeCompress(res.req, upstream, { minBytes: 64 }) : upstream;
      res.writeHead(out.status, { ...out.headers, 'x-served-by': out.backend.name, ...extra });
      if (Buffer.isBuffer(out.body)) {
        // A hit from memory: the whole body at once (HEAD and 304 get none).
        res.end(res.req.method === 'HEAD' || out.status === 304 ? undefined : out.body);
        resolve();
        return;
      }
      pipeline(asReadable(out.body), res, (err) => {
        if (err) res.destroy();
        resolve();
      });
    });
}

export function testSettings(overrides: Partial<CacheSettings> = {}): CacheSettings {
  return { ...loadConfig(cacheSettings, { argv: [], env: {} }), ...overrides };
}

export interface Front {
  url: string;
  layer: CacheLayer;
  registry: Registry;
  results: string[];
  /** Requests that entered the layer. */
  entered(): number;
  clock: { now: number; advance(ms: number): void };
  close(): Promise<void>;
}

export async function startFront(backendUrl: string, overrides: Partial<CacheSettings> = {}, opts: { compress?: boolean } = {}): Promise<Front> {
  const clock = {
    now: Date.now(),
    advance(ms: number) {
      this.now += ms;
    },
  };
  const registry = new Registry();
  const logger = createLogger({ name: 'balancer-test', level: 'silent' });
  const layer = createCacheLayer(testSettings(overrides), { registry, logger, now: () => clock.now });
  const upstream = fakeFetchUpstream(backendUrl);
  const write = fakeWriteUpstream(opts.compress ?? false);
  const results: string[] = [];
  let entered = 0;
  const server = http.createServer((req, res) => {
    entered++;
    layer.handle(req, res, upstream.fetch, write).then(
      (r) => results.push(r),
      (err: unknown) => {
        results.push('ERROR');
        if (res.headersSent) return void res.destroy();
        const status = err instanceof BackendError ? err.status : 500;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(`error ${status}`);
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    layer,
    registry,
    results,
    entered: () => entered,
    clock,
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await upstream.close();
    },
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
