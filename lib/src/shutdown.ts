// Graceful shutdown on SIGTERM/SIGINT: stop accepting, let in-flight requests finish within a
// deadline, close clients (pools, Redis), exit 0. Kubernetes sends SIGTERM and waits
// terminationGracePeriodSeconds, so the deadline must stay below that.
import type http from 'node:http';
import type { Logger } from './logger.js';

export interface ShutdownOptions {
  logger: Logger;
  /** How long in-flight requests may take after the signal before connections are cut. */
  deadlineMs: number;
  /** Called instead of process.exit (tests). */
  exit?: (code: number) => void;
}

type Closer = () => Promise<unknown> | unknown;

export class Shutdown {
  private readonly servers: http.Server[] = [];
  private readonly inFlight = new Map<http.Server, number>();
  private readonly beforeClose: Closer[] = [];
  private readonly closers: Array<[string, Closer]> = [];
  private started: Promise<void> | undefined;

  constructor(private readonly options: ShutdownOptions) {}

  /** Tracks a server's in-flight requests so shutdown can wait for them. */
  addServer(server: http.Server): void {
    this.servers.push(server);
    this.inFlight.set(server, 0);
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      this.inFlight.set(server, (this.inFlight.get(server) ?? 0) + 1);
      if (this.started) res.setHeader('connection', 'close');
      res.once('close', () => this.inFlight.set(server, (this.inFlight.get(server) ?? 1) - 1));
    });
  }

  /** Runs first when shutdown starts (e.g. mark /readyz failing, stop timers). */
  onStart(fn: Closer): void {
    this.beforeClose.push(fn);
  }

  /** Closes a client after the servers have drained, in registration order. */
  addCloser(name: string, fn: Closer): void {
    this.closers.push([name, fn]);
  }

  install(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        void this.run(signal);
      });
    }
  }

  get inProgress(): boolean {
    return this.started !== undefined;
  }

  run(reason: string): Promise<void> {
    this.started ??= this.doRun(reason);
    return this.started;
  }

  private async doRun(reason: string): Promise<void> {
    const { logger, deadlineMs } = this.options;
    const t0 = Date.now();
    logger.info({ reason, deadlineMs }, 'shutting down');
    for (const fn of this.beforeClose) await safely(logger, 'shutdown hook', fn);
    const closed = this.servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeIdleConnections();
        }),
    );
    const drained = Promise.all(closed).then(() => true);
    const deadline = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), deadlineMs).unref());
    // Idle keep-alive sockets would hold close() open; keep cutting the ones that go idle.
    const sweeper = setInterval(() => this.servers.forEach((s) => s.closeIdleConnections()), 50);
    const inTime = await Promise.race([drained, deadline]);
    clearInterval(sweeper);
    if (!inTime) {
      const left = [...this.inFlight.values()].reduce((a, b) => a + b, 0);
      logger.warn({ inFlight: left }, 'shutdown deadline reached; closing remaining connections');
      this.servers.forEach((s) => s.closeAllConnections());
    }
    for (const [name, fn] of this.closers) await safely(logger, `closing ${name}`, fn);
    logger.info({ ms: Date.now() - t0 }, 'shutdown complete');
    await flushLogger(logger);
    (this.options.exit ?? ((code: number) => process.exit(code)))(0);
  }
}

async function safely(logger: Logger, what: string, fn: Closer): Promise<void> {
  try {
    await fn();
  } catch (err) {
    logger.warn({ err }, `${what} failed`);
  }
}

function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
    setTimeout(resolve, 200).unref();
  });
}
