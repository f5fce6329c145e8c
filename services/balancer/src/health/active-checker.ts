// Active health checks: a thin timer/probe adapter that feeds check-ok / check-fail events into
// each backend's pure state machine. One probe per backend at a time.
import http from 'node:http';
import type { Logger } from '@dramble/lib';
import type { BackendSet } from '../backends/backend-set.js';
import type { Backend } from '../backends/backend.js';

export interface ActiveCheckSettings {
  path: string;
  /** 0 = the backend's own port. */
  port: number;
  intervalMs: number;
  timeoutMs: number;
}

export class ActiveChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<string>();

  constructor(
    private readonly backends: BackendSet,
    private settings: ActiveCheckSettings,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.settings.intervalMs > 0;
  }

  start(): void {
    this.stop();
    if (!this.enabled) return;
    this.timer = setInterval(() => this.round(), this.settings.intervalMs);
    this.timer.unref();
    this.round();
  }

  reconfigure(settings: ActiveCheckSettings): void {
    this.settings = settings;
    this.start();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Probes every backend once (also used by tests to avoid waiting for the timer). */
  round(): Promise<void> {
    return Promise.all(this.backends.all().map((b) => this.probe(b))).then(() => undefined);
  }

  private async probe(b: Backend): Promise<void> {
    if (this.running.has(b.id)) return;
    this.running.add(b.id);
    const url = new URL(this.settings.path, b.origin);
    if (this.settings.port > 0) url.port = String(this.settings.port);
    let ok = false;
    let why = '';
    try {
      const status = await probeStatus(url, this.settings.timeoutMs);
      ok = status >= 200 && status < 400;
      why = `status ${status}`;
    } catch (err) {
      why = (err as Error).message;
    } finally {
      this.running.delete(b.id);
    }
    const wasUp = b.health.up;
    b.event({ type: ok ? 'check-ok' : 'check-fail', now: Date.now() });
    if (wasUp !== b.health.up) this.logger.warn({ backend: b.id, backendName: b.name, up: b.health.up, why }, b.health.up ? 'backend passed its health checks' : 'backend failed its health checks');
  }
}

/**
 * One GET on a fresh connection (like HAProxy's checks: a dead listener shows at once), the body
 * drained; rejects on a connect error or when the whole exchange outlasts `timeoutMs`.
 */
function probeStatus(url: URL, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { 'user-agent': 'dramble-balancer-health', connection: 'close' } }, (res) => {
      res.resume();
      res.once('end', () => {
        clearTimeout(timer);
        resolve(res.statusCode ?? 0);
      });
      res.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`health check timed out after ${timeoutMs} ms`)), timeoutMs);
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
