// Active health checks: a thin timer/probe adapter that feeds check-ok / check-fail events into
// each backend's pure state machine. One probe per backend at a time.
import { request } from 'undici';
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
      const res = await request(url, {
        method: 'GET',
        headers: { 'user-agent': 'dramble-balancer-health' },
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      await res.body.dump();
      ok = res.statusCode >= 200 && res.statusCode < 400;
      why = `status ${res.statusCode}`;
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
