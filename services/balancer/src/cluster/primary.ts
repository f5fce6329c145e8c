// --workers N: the primary process supervises N workers that share the public port (node:cluster
// round robin) and serves the one admin listener. Each worker's own admin listener is private
// (127.0.0.1, a port of its own, announced over IPC): the primary passes reads to one worker and
// changes (drain, purge) to every worker, since each holds its own backend set and cache, and
// /metrics adds up every worker's metrics (prom-client's AggregatorRegistry). A change whose bearer
// token does not grant its power (purge or drain) is refused here, before any worker is asked; the
// workers check again, since their private listeners are reachable from this host.
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import { AggregatorRegistry, type PrometheusContentType, type Registry } from 'prom-client';
import { AdminServer, HttpError, readBodyBytes, sendJson, type Logger } from '@dramble/lib';
import { loadBalancerConfig, type BalancerConfig } from '../config.js';
import { powerFor, refusal, type AdminTokens } from '../admin/powers.js';
import { mergeAnswers, type WorkerAnswer } from './fan-out.js';

/** What a worker tells the primary once its private admin listener is up. */
export interface AdminAnnouncement {
  dramble: 'admin-port';
  port: number;
}

const MAX_BODY_BYTES = 1024 * 1024;
const WORKER_TIMEOUT_MS = 10_000;

export function isAdminAnnouncement(m: unknown): m is AdminAnnouncement {
  return typeof m === 'object' && m !== null && (m as AdminAnnouncement).dramble === 'admin-port' && typeof (m as AdminAnnouncement).port === 'number';
}

/** One call to one worker's private admin listener. */
function askWorker(pid: number, port: number, method: string, path: string, headers: http.OutgoingHttpHeaders, body: Buffer): Promise<WorkerAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, host: `127.0.0.1:${port}`, 'content-length': body.length }, timeout: WORKER_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ pid, status: res.statusCode ?? 502, contentType: res.headers['content-type'], body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`worker ${pid} did not answer within ${WORKER_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface Primary {
  /** The admin listener's address once it listens. */
  adminReady: Promise<{ host: string; port: number }>;
}

export function runPrimary(config: BalancerConfig, logger: Logger): Primary {
  const adminPorts = new Map<number, number>(); // worker pid -> its private admin port
  let stopping = false;
  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (m: unknown) => {
      if (isAdminAnnouncement(m) && worker.process.pid) adminPorts.set(worker.process.pid, m.port);
    });
    return worker;
  };
  for (let i = 0; i < config.workers; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (worker.process.pid) adminPorts.delete(worker.process.pid);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died; starting a new one');
    fork();
  });

  let tokens: AdminTokens = { purge: config.purgeToken, drain: config.drainToken };
  let next = 0;
  const handler: http.RequestListener = (req, res) => {
    const power = powerFor(req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/');
    const denied = power && refusal(req, power, tokens);
    if (denied) {
      req.resume();
      if (denied.status === 401) res.setHeader('www-authenticate', 'Bearer');
      return sendJson(res, denied.status, { error: denied.error });
    }
    const workers = [...adminPorts];
    if (workers.length === 0) {
      req.resume();
      return sendJson(res, 503, { error: 'no worker is running yet' });
    }
    const method = req.method ?? 'GET';
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    delete headers['transfer-encoding'];
    const path = req.url ?? '/';
    const targets = method === 'GET' || method === 'HEAD' ? [workers[next++ % workers.length]!] : workers;
    readBodyBytes(req, MAX_BODY_BYTES)
      .then((body) => Promise.all(targets.map(([pid, port]) => askWorker(pid, port, method, path, headers, body))))
      .then((answers) => {
        const merged = mergeAnswers(answers);
        res.writeHead(merged.status, { 'content-type': merged.contentType, 'cache-control': 'no-store' });
        res.end(merged.body);
      })
      .catch((err: Error) => {
        if (res.headersSent) return void res.destroy();
        if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message });
        logger.warn({ err: err.message, path }, 'admin call to the workers failed');
        sendJson(res, 502, { error: `a worker did not answer: ${err.message}` });
      });
  };

  const aggregator = new AggregatorRegistry<PrometheusContentType>();
  const admin = new AdminServer({ listen: config.admin, registry: aggregator, logger, handler, metricsText: () => aggregator.clusterMetrics() });
  // Ready while at least one worker is: the shared port is served by the live workers only.
  admin.addReadinessCheck('workers', async () => {
    const answers = await Promise.all([...adminPorts].map(([pid, port]) => askWorker(pid, port, 'GET', '/readyz', {}, Buffer.alloc(0)).catch(() => undefined)));
    const ready = answers.filter((a) => a?.status === 200).length;
    if (ready === 0) throw new Error(`no worker is ready (${adminPorts.size} of ${config.workers} running)`);
    return { ready, running: adminPorts.size, configured: config.workers };
  });
  const adminReady = admin.listen();
  adminReady.then(
    (at) => logger.info({ admin: at, workers: config.workers }, 'balancer primary: admin listener up'),
    (err: unknown) => {
      logger.fatal({ err }, 'balancer primary: admin listener failed');
      process.exit(1);
    },
  );

  process.on('SIGHUP', () => {
    // The same sources the workers re-read, so the primary's token check follows a rotation.
    try {
      const next = loadBalancerConfig();
      tokens = { purge: next.purgeToken, drain: next.drainToken };
    } catch (err) {
      logger.error({ err }, 'config reload failed in the primary; keeping its tokens');
    }
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      stopping = true;
      logger.info({ signal: sig }, 'stopping workers');
      admin.markShuttingDown();
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      setTimeout(() => process.exit(1), config.shutdownDeadlineMs + 2000).unref();
    });
  }
  return { adminReady };
}

/** In a worker: serve the primary's metrics requests from this registry and announce the admin port. */
export function joinPrimary(registry: Registry, adminPort: number): void {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // its constructor installs the worker's answer to the primary's requests
  const announcement: AdminAnnouncement = { dramble: 'admin-port', port: adminPort };
  process.send?.(announcement);
}
