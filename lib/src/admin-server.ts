// The admin listener every service runs beside its public one: /healthz, /readyz, /metrics,
// and whatever API the service mounts (db-manager's /api, the balancer's /api/backends).
import http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import type { HostPort } from './config.js';
import { withTimeout } from './timeout.js';
import { listenOn } from './listen.js';

/** A readiness check passes by resolving; it fails by throwing (the message is shown in /readyz). */
export type ReadinessCheck = () => Promise<unknown> | unknown;

export interface AdminServerOptions {
  listen: HostPort;
  registry: Registry;
  logger: Logger;
  /** Handles every other path (an express app, for instance). Default: 404. */
  handler?: http.RequestListener;
  /** How long one readiness check may take before it counts as failed. */
  checkTimeoutMs?: number;
  /** Bind a socket of its own in a node:cluster worker (each worker's admin listener on its own port). */
  exclusive?: boolean;
  /** The /metrics text, when it is not `registry.metrics()` (a cluster primary aggregating its workers'). */
  metricsText?: () => Promise<string>;
}

export interface CheckResult {
  ok: boolean;
  detail?: unknown;
  error?: string;
}

export class AdminServer {
  readonly server: http.Server;
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly options: AdminServerOptions;
  private shuttingDown = false;

  constructor(options: AdminServerOptions) {
    this.options = options;
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        options.logger.error({ err }, 'admin request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
  }

  /** Registers a check that /readyz runs; the service is ready only when all pass. */
  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** Once shutdown starts, /readyz answers 503 so balancers stop sending new work. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  listen(): Promise<HostPort> {
    return listenOn(this.server, this.options.listen, { exclusive: this.options.exclusive ?? false });
  }

  async runChecks(): Promise<{ ok: boolean; checks: Record<string, CheckResult> }> {
    const timeout = this.options.checkTimeoutMs ?? 2000;
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, CheckResult]> => {
        try {
          const detail = await withTimeout(Promise.resolve().then(check), timeout, `check ${name} timed out after ${timeout} ms`);
          return [name, detail === undefined ? { ok: true } : { ok: true, detail }];
        } catch (err) {
          return [name, { ok: false, error: err instanceof Error ? err.message : String(err) }];
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const ok = !this.shuttingDown && entries.every(([, r]) => r.ok);
    return { ok, checks };
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        const { ok, checks } = await this.runChecks();
        return sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : this.shuttingDown ? 'shutting down' : 'not ready', checks });
      }
      if (path === '/metrics') {
        const body = await (this.options.metricsText ?? (() => this.options.registry.metrics()))();
        res.writeHead(200, { 'content-type': this.options.registry.contentType, 'cache-control': 'no-store' });
        res.end(body);
        return;
      }
    }
    if (this.options.handler) return this.options.handler(req, res);
    sendJson(res, 404, { error: 'not found' });
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
