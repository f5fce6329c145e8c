// Test helpers for the balancer: real backends (small node http servers), a balancer started in
// process with a config built from the real settings table, and raw-socket requests.
import http from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@dramble/lib';
import { loadBalancerConfig, startBalancer, type Balancer, type BalancerConfig } from '@dramble/balancer';

export interface TestBackend {
  name: string;
  port: number;
  url: string;
  server: http.Server;
  /** Requests this backend received (method, url, headers, body length). */
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; bodyBytes: number }>;
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** A backend that answers 200 with its name (or runs `handler` once the body is read). */
export async function startBackend(name: string, handler?: Handler, port = 0): Promise<TestBackend> {
  const seen: TestBackend['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes: body.length });
      if (handler) return handler(req, res, body);
      const text = JSON.stringify({ backend: name, method: req.method, url: req.url, headers: req.headers, bodyBytes: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const p = (server.address() as AddressInfo).port;
  return {
    name,
    port: p,
    url: `http://127.0.0.1:${p}#${name}`,
    server,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface TestBalancer {
  balancer: Balancer;
  base: string;
  admin: string;
  port: number;
  /** Access log lines written so far. */
  logLines: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Config as the real loader builds it from flags, on free ports, with the given flags added. The
 * raw-socket tests send `Host: x`: the test deployment declares that name (loopback is accepted anyway).
 */
export function testConfig(flags: string[] = []): BalancerConfig {
  return loadBalancerConfig({ argv: ['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--health-interval-ms', '0', '--server-name', 'x', ...flags], env: {} });
}

export async function startTestBalancer(flags: string[] = [], config?: BalancerConfig): Promise<TestBalancer> {
  const logLines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const cfg = config ?? testConfig(flags);
  const logger = createLogger({ name: 'balancer', level: process.env['BALANCER_TEST_LOG'] ?? 'info', destination });
  const balancer = await startBalancer(cfg, { logger });
  return {
    balancer,
    base: `http://127.0.0.1:${balancer.address.port}`,
    admin: `http://127.0.0.1:${balancer.adminAddress.port}`,
    port: balancer.address.port,
    logLines,
    close: () => balancer.close(2000),
  };
}

/** Sends raw bytes and collects everything the server sends back until it closes (or `ms` passes). */
export function rawExchange(port: number, data: string | Buffer, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1'));
      else reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(data);
  });
}

export function statusOf(raw: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : 0;
}

/** Polls `fn` until it returns truthy, failing after `ms`. */
export async function eventually<T>(fn: () => T | Promise<T>, ms = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with node:http and a fresh connection; rejects if the response is cut. */
export function request(url: string, options: http.RequestOptions & { body?: string | Buffer } = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('aborted', () => reject(new Error('response aborted')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** dramble_balancer_rejected_requests_total for one reason, read from the admin /metrics. */
export async function rejectedCount(lb: TestBalancer, reason: string): Promise<number> {
  const text = await (await fetch(`${lb.admin}/metrics`)).text();
  const m = new RegExp(`^dramble_balancer_rejected_requests_total\\{reason="${reason}"[^}]*\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
