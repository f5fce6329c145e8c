// Builds a running balancer from a config: discovery -> backend set -> forwarding engine (+ cache)
// behind the public listener, and the admin listener. main.ts adds signals; tests call this directly.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { AdminServer, createLogger, createRegistry, listenOn, type HostPort, type Logger } from '@dramble/lib';
import type { Registry } from 'prom-client';
import { BackendSet } from './backends/backend-set.js';
import { createStrategy, type Strategy } from './balancing/index.js';
import { createCacheLayer, type CacheLayer } from './cache/layer.js';
import { cacheAdminRoutes } from './cache/admin.js';
import { createCompressor, rawLeftAlone } from './compression/index.js';
import { createRateLimiter, writeTooManyRequests, type RateLimiter } from './rate-limit/index.js';
import type { BalancerConfig } from './config.js';
import { createDnsDiscovery } from './discovery/dns.js';
import { createStaticDiscovery } from './discovery/static.js';
import type { Discovery } from './discovery/types.js';
import { sendError } from './errors/pages.js';
import { createClientErrorHandler, createErrorHandler } from './errors/handle.js';
import { createFinish } from './access-log.js';
import { ClientGoneError } from './forward/errors.js';
import { createFetchUpstream } from './forward/fetch-upstream.js';
import type { ForwardDeps, ForwardSettings } from './forward/forwarding.js';
import { passThrough, type PassThroughDeps } from './forward/pass-through.js';
import { RetryBudget } from './forward/retry-budget.js';
import { createWriteUpstream } from './forward/write-upstream.js';
import type { ResponsePassOptions } from './response/passes.js';
import { ActiveChecker } from './health/active-checker.js';
import type { HealthPolicy } from './health/state-machine.js';
import { createBalancerMetrics } from './metrics.js';
import { createAdminHandler, type AdminRoute } from './admin/routes.js';
import { createContext } from './request/client.js';
import { getContext, setContext, type RequestContext } from './request/context.js';
import { framingProblem } from './request/smuggling.js';
import { TrustedProxies } from './request/trusted-proxies.js';
import { readTls, watchTls } from './tls.js';
import { createUpgradeHandler } from './ws/tunnel.js';
import type { PoolSettings } from './backends/backend.js';

export interface BalancerDeps {
  logger?: Logger;
  registry?: Registry;
  /** Replaces the discovery the config names (tests). */
  discovery?: Discovery;
  /** A cluster worker: the admin listener binds a port of its own (cluster/primary.ts). */
  privateAdmin?: boolean;
  /** The edge cache's clock in ms (tests move it past freshness instead of sleeping). */
  cacheClock?: () => number;
}

export interface Balancer {
  address: HostPort;
  adminAddress: HostPort;
  /** Plain-HTTP redirect listener, when --https-redirect is on. */
  redirectAddress: HostPort | undefined;
  server: http.Server;
  admin: AdminServer;
  backends: BackendSet;
  checker: ActiveChecker;
  cache: CacheLayer;
  logger: Logger;
  registry: Registry;
  /** Applies a new config without dropping connections (listen addresses and TLS mode stay). */
  reload(config: BalancerConfig): void;
  /** Graceful: stop accepting, let in-flight requests finish (up to deadlineMs), then close everything. */
  close(deadlineMs?: number): Promise<void>;
}

function healthPolicy(c: BalancerConfig): HealthPolicy {
  return { rise: c.healthRise, fall: c.healthFall, maxFails: c.maxFails, failTimeoutMs: c.failTimeoutMs, maxEjectMs: c.maxEjectMs, slowStartMs: c.slowStartMs, panicThresholdPercent: c.panicThresholdPercent };
}

function poolSettings(c: BalancerConfig): PoolSettings {
  return { connections: c.backendConnections, connectTimeoutMs: c.connectTimeoutMs, responseTimeoutMs: c.responseTimeoutMs, idleTimeoutMs: c.idleTimeoutMs, queue: c.backendQueue };
}

async function createDiscovery(config: BalancerConfig, logger: Logger): Promise<Discovery> {
  switch (config.discovery) {
    case 'static':
      return createStaticDiscovery(config.backends);
    case 'dns':
      return createDnsDiscovery({ host: config.backendHost ?? '', port: config.backendPort ?? 3000, intervalMs: config.dnsIntervalMs, logger });
    case 'kubernetes': {
      // Loaded only when used: the Kubernetes client is large.
      const k = await import('./discovery/kubernetes.js');
      return k.createKubernetesDiscovery({
        kubeConfig: k.loadKubeConfig(config.kubeconfig),
        namespace: config.namespace,
        service: config.service ?? '',
        ...(config.backendPort !== undefined ? { port: config.backendPort } : {}),
        logger,
      });
    }
  }
}

function originForm(target: string): string | undefined {
  if (!/^https?:\/\//i.test(target)) return undefined;
  try {
    const u = new URL(target);
    return `${u.pathname}${u.search}`;
  } catch {
    return undefined;
  }
}

export async function startBalancer(initial: BalancerConfig, deps: BalancerDeps = {}): Promise<Balancer> {
  let config = initial;
  const logger = deps.logger ?? createLogger({ name: 'balancer', level: config.logLevel });
  const registry = deps.registry ?? createRegistry('balancer');
  const tls = Boolean(config.tlsCert && config.tlsKey);
  let inFlight = 0;
  const metrics = createBalancerMetrics(registry, { inFlight: () => inFlight, backendInFlight: () => backends.all(), panic: () => backends.panic });

  const backends = new BackendSet(poolSettings(config), healthPolicy(config), config.ewmaDecayMs, logger);
  backends.onHealthChange = (b, from, to) => {
    metrics.backendHealth.set({ backend: b.name, state: from }, 0);
    metrics.backendHealth.set({ backend: b.name, state: to }, 1);
    logger.info({ backend: b.id, backendName: b.name, from, to }, 'backend health changed');
  };
  backends.onChange = (list) => {
    for (const b of list) metrics.backendHealth.set({ backend: b.name, state: b.healthy() ? 'healthy' : 'down' }, 1);
  };
  const checker = new ActiveChecker(backends, { path: config.healthPath, port: config.healthPort, intervalMs: config.healthIntervalMs, timeoutMs: config.healthTimeoutMs }, logger);
  let strategy: Strategy = createStrategy(config.strategy);
  let trusted = new TrustedProxies(config.trustedProxies);
  const budget = new RetryBudget(config.retryBudgetPercent, config.retryBudgetMin);
  const makeForwardSettings = (): ForwardSettings => ({
    retries: config.retries,
    hashOn: config.strategy === 'hash' ? config.hashOn : undefined,
    viaName: config.viaName,
    maxBodySize: config.maxBodySize,
    activeChecks: checker.enabled,
    failStatuses: config.failStatuses,
  });
  // Rebuilt on reload only: the forwarder reads it on every request.
  let forwardSettings = makeForwardSettings();
  const forwardDeps: ForwardDeps = { backends, strategy: () => strategy, settings: () => forwardSettings, budget, metrics, logger };
  const fetchUpstream = createFetchUpstream(forwardDeps);
  let compressor = createCompressor(config);
  // Rebuilt on reload only, like forwardSettings.
  const makeResponseOptions = (): ResponsePassOptions => ({ viaName: config.viaName, servedByHeader: config.servedByHeader, hstsMaxAge: config.hsts });
  let responseOptions = makeResponseOptions();
  const writeUpstream = createWriteUpstream(
    () => responseOptions,
    // Without Accept-Encoding nothing can be compressed; skip the checks (and the Vary it would add:
    // an uncompressed response is acceptable to every client, so a downstream cache may share it).
    (req, upstream) => (getContext(req)?.headers.acceptEncoding === undefined ? upstream : compressor(req, upstream)),
  );
  // A response compression will change takes the general writer; the rest (images, small or
  // already-encoded bodies, clients that accept no coding) the pass-through path.
  const mayCompress = (ctx: RequestContext, status: number, raw: Buffer[]): boolean =>
    config.compression && ctx.headers.acceptEncoding !== undefined && !rawLeftAlone(status, raw, config.compressionMinBytes);
  let limiter: RateLimiter = createRateLimiter(config);
  let limiterRps = config.rateLimitRps;
  let limiterBurst = config.rateLimitBurst;
  const cache = createCacheLayer(config, { registry, logger, now: deps.cacheClock });

  const onUpgrade = createUpgradeHandler({
    backends,
    strategy: () => strategy,
    viaName: () => config.viaName,
    servedByHeader: () => config.servedByHeader,
    connectTimeoutMs: () => config.connectTimeoutMs,
    retries: () => config.retries,
    logger,
  });

  const finish = createFinish(logger, metrics, () => config.accessLog);
  const handleError = createErrorHandler(logger, metrics, () => Math.max(1, Math.ceil(config.failTimeoutMs / 1000)));
  const passThroughDeps: PassThroughDeps = { ...forwardDeps, responseOptions: () => responseOptions, mayCompress, writeUpstream, handleError };

  // One listener function for every response (no closure per request); `this` is the response.
  function onResponseClose(this: http.ServerResponse): void {
    const ctx = getContext(this.req);
    inFlight--;
    if (!ctx) return;
    if (!this.writableFinished) {
      // The client went away: stop waiting for a backend on its behalf.
      ctx.gone = true;
      ctx.cancel?.(new ClientGoneError('client closed the connection'));
    }
    finish(this.req, this, ctx);
    ctx.sink?.clientClosed();
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const ctx = createContext(req, trusted, tls);
    ctx.closeWatched = true;
    setContext(req, ctx);
    inFlight++;
    res.on('close', onResponseClose);

    const problem = framingProblem(req.rawHeaders);
    if (problem) {
      ctx.error = problem;
      metrics.rejected.inc({ reason: 'framing' });
      sendError(req, res, 400, { requestId: ctx.id, detail: `Malformed request: ${problem}.`, close: true });
      return;
    }
    // Origin-form only towards backends: absolute-form (a proxy request) is reduced to its path,
    // anything else (authority-form, asterisk-form, garbage) is refused.
    const target = req.url ?? '';
    if (target[0] !== '/') {
      const path = originForm(target);
      if (path === undefined) {
        metrics.rejected.inc({ reason: 'request-target' });
        sendError(req, res, 400, { requestId: ctx.id, detail: 'Malformed request: unsupported request target.', close: true });
        return;
      }
      req.url = path;
    }
    const declared = Number(ctx.headers.contentLength ?? 0);
    if (config.maxBodySize > 0 && declared > config.maxBodySize) {
      metrics.rejected.inc({ reason: 'body-too-large' });
      sendError(req, res, 413, { requestId: ctx.id, close: true });
      return;
    }
    if (limiter.enabled) {
      const decision = limiter.check(ctx.clientIp);
      if (!decision.ok) {
        metrics.rejected.inc({ reason: 'rate-limit' });
        req.resume();
        writeTooManyRequests(res, decision.retryAfterSeconds, req.headers.accept);
        return;
      }
    }
    const way = cache.route(req);
    if (way !== 'lookup') {
      // Past the cache without touching it, and without a promise (forward/pass-through.ts).
      try {
        passThrough(passThroughDeps, req, res, ctx, way === 'bypass' ? 'BYPASS' : undefined);
      } catch (err) {
        handleError(req, res, ctx, err);
      }
      return;
    }
    // The cache's result reaches the access log through writeUpstream (its X-Cache), as the head is written.
    cache.lookup(req, res, fetchUpstream, writeUpstream).catch((err: unknown) => handleError(req, res, ctx, err));
  };

  const onClientError = createClientErrorHandler(logger, metrics);

  const serverOptions: http.ServerOptions = {
    maxHeaderSize: config.maxHeaderSize,
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(config.headersTimeoutMs / 4))),
  };
  let stopTlsWatch: (() => void) | undefined;
  let server: http.Server;
  if (tls) {
    const files = { cert: config.tlsCert ?? '', key: config.tlsKey ?? '' };
    const s = https.createServer({ ...serverOptions, ...readTls(files) }, onRequest);
    stopTlsWatch = watchTls(s, files, config.tlsWatchMs, logger);
    server = s as unknown as http.Server;
  } else {
    server = http.createServer(serverOptions, onRequest);
  }
  server.on('clientError', onClientError);
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const ctx = createContext(req, trusted, tls);
    const problem = framingProblem(req.rawHeaders);
    if (problem) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    onUpgrade(req, socket, head, ctx);
  });

  let redirect: http.Server | undefined;
  if (config.httpsRedirect && config.redirectListen) {
    redirect = http.createServer(serverOptions, (req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const port = server.address() && typeof server.address() === 'object' ? (server.address() as { port: number }).port : 443;
      const location = `https://${host}${port === 443 ? '' : `:${port}`}${req.url ?? '/'}`;
      res.writeHead(308, { location, 'content-length': 0, connection: 'close' });
      res.end();
    });
  }

  const cacheRoutes: AdminRoute[] = [cacheAdminRoutes(cache, () => config.adminToken)];
  const admin = new AdminServer({
    listen: config.admin,
    exclusive: deps.privateAdmin ?? false,
    registry,
    logger,
    handler: createAdminHandler({ backends, adminToken: () => config.adminToken, strategy: () => strategy.name, extra: cacheRoutes }),
  });
  admin.addReadinessCheck('backends', () => {
    const healthy = backends.all().filter((b) => b.healthy() && !b.draining).length;
    // Ready even with no healthy backend when the cache can serve; report the count either way.
    if (backends.all().length === 0) throw new Error('no backends discovered yet');
    return { healthy, total: backends.all().length };
  });

  const discovery = deps.discovery ?? (await createDiscovery(config, logger));
  await discovery.start((targets) => backends.update(targets));
  checker.start();

  const address = await listenOn(server, config.listen);
  const adminAddress = await admin.listen();
  const redirectAddress = redirect && config.redirectListen ? await listenOn(redirect, config.redirectListen) : undefined;
  logger.info({ listen: address, admin: adminAddress, tls, strategy: strategy.name, backends: backends.all().length, discovery: config.discovery }, 'balancer listening');

  let closing: Promise<void> | undefined;
  const balancer: Balancer = {
    address,
    adminAddress,
    redirectAddress,
    server,
    admin,
    backends,
    checker,
    cache,
    logger,
    registry,
    reload(next) {
      const changedListen = next.listen.port !== config.listen.port || next.listen.host !== config.listen.host;
      if (changedListen) logger.warn('--listen changes need a restart; keeping the current listener');
      const strategyChanged = next.strategy !== config.strategy;
      config = { ...next, listen: config.listen, admin: config.admin, tlsCert: config.tlsCert, tlsKey: config.tlsKey };
      if (strategyChanged) strategy = createStrategy(config.strategy);
      compressor = createCompressor(config);
      cache.reconfigure(config);
      if (next.rateLimitRps !== limiterRps || next.rateLimitBurst !== limiterBurst) {
        limiter = createRateLimiter(config);
        limiterRps = next.rateLimitRps;
        limiterBurst = next.rateLimitBurst;
      }
      trusted = new TrustedProxies(config.trustedProxies);
      budget.configure(config.retryBudgetPercent, config.retryBudgetMin);
      backends.reconfigure(poolSettings(config), healthPolicy(config), config.ewmaDecayMs);
      checker.reconfigure({ path: config.healthPath, port: config.healthPort, intervalMs: config.healthIntervalMs, timeoutMs: config.healthTimeoutMs });
      forwardSettings = makeForwardSettings();
      responseOptions = makeResponseOptions();
      logger.level = config.logLevel;
      server.headersTimeout = config.headersTimeoutMs;
      server.requestTimeout = config.requestTimeoutMs;
      server.keepAliveTimeout = config.keepAliveTimeoutMs;
      if (config.discovery === 'static' && 'set' in discovery && typeof discovery.set === 'function') (discovery as { set(u: readonly string[]): void }).set(config.backends);
      logger.info({ strategy: config.strategy, backends: backends.all().length }, 'configuration reloaded');
    },
    close(deadlineMs = config.shutdownDeadlineMs) {
      closing ??= (async () => {
        admin.markShuttingDown();
        checker.stop();
        stopTlsWatch?.();
        const closed = Promise.all(
          [server, redirect].filter((s): s is http.Server => s !== undefined).map(
            (s) =>
              new Promise<void>((resolve) => {
                s.close(() => resolve());
                s.closeIdleConnections();
              }),
          ),
        );
        const sweeper = setInterval(() => server.closeIdleConnections(), 50);
        const timedOut = await Promise.race([closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), deadlineMs).unref())]);
        clearInterval(sweeper);
        if (timedOut) {
          logger.warn('shutdown deadline reached; closing remaining connections');
          server.closeAllConnections();
          redirect?.closeAllConnections();
        }
        await discovery.stop();
        await backends.close();
        await new Promise<void>((resolve) => {
          admin.server.close(() => resolve());
          admin.server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
  return balancer;
}

