// The balancer's composition root: discovery -> backend set -> forwarding engine (+ cache) behind
// the public listener, whose requests and upgrades pass admission (request/admit.ts) first, and the
// admin listener. Config-derived parts live in one Runtime (runtime.ts), rebuilt on reload. main.ts
// adds signals; tests call this directly.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AdminServer, createLogger, createRegistry, listenOn, type HostPort, type Logger } from '@dramble/lib';
import type { Registry } from 'prom-client';
import { BackendSet } from './backends/backend-set.js';
import { createCacheLayer, type CacheLayer } from './cache/layer.js';
import { cacheAdminRoutes } from './cache/admin.js';
import { rawLeftAlone } from './compression/index.js';
import { writeTooManyRequests } from './rate-limit/index.js';
import type { BalancerConfig } from './config.js';
import { createDnsDiscovery } from './discovery/dns.js';
import { createStaticDiscovery } from './discovery/static.js';
import type { Discovery } from './discovery/types.js';
import { rawError, sendError } from './errors/pages.js';
import { createClientErrorHandler, createErrorHandler } from './errors/handle.js';
import { createFinish, createFinishUpgrade } from './access-log.js';
import { ClientGoneError } from './forward/errors.js';
import { createFetchUpstream } from './forward/fetch-upstream.js';
import type { ForwardDeps } from './forward/forwarding.js';
import { passThrough, type PassThroughDeps } from './forward/pass-through.js';
import { RetryBudget } from './forward/retry-budget.js';
import { createWriteUpstream } from './forward/write-upstream.js';
import { ActiveChecker } from './health/active-checker.js';
import type { HealthPolicy } from './health/state-machine.js';
import { createBalancerMetrics } from './metrics.js';
import { createAdminHandler, type AdminRoute } from './admin/routes.js';
import { createContext } from './request/client.js';
import { getContext, normaliseIp, setContext, type RequestContext } from './request/context.js';
import { admit, longLivedRefusal, REQUEST_PASSES, UPGRADE_PASSES, type Refusal } from './request/admit.js';
import { ClientTally } from './request/client-tally.js';
import { LongLivedLimitError, responseClassNoticing } from './request/long-lived.js';
import { buildRuntime, type Runtime } from './runtime.js';
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

export async function startBalancer(initial: BalancerConfig, deps: BalancerDeps = {}): Promise<Balancer> {
  const logger = deps.logger ?? createLogger({ name: 'balancer', level: initial.logLevel });
  const registry = deps.registry ?? createRegistry('balancer');
  const tls = Boolean(initial.tlsCert && initial.tlsKey);
  let inFlight = 0;
  const metrics = createBalancerMetrics(registry, { inFlight: () => inFlight, backendInFlight: () => backends.all(), panic: () => backends.panic });

  const backends = new BackendSet(poolSettings(initial), healthPolicy(initial), initial.ewmaDecayMs, logger);
  backends.onHealthChange = (b, from, to) => {
    metrics.backendHealth.set({ backend: b.name, state: from }, 0);
    metrics.backendHealth.set({ backend: b.name, state: to }, 1);
    logger.info({ backend: b.id, backendName: b.name, from, to }, 'backend health changed');
  };
  backends.onChange = (list) => {
    for (const b of list) metrics.backendHealth.set({ backend: b.name, state: b.healthy() ? 'healthy' : 'down' }, 1);
  };
  const checker = new ActiveChecker(backends, { path: initial.healthPath, port: initial.healthPort, intervalMs: initial.healthIntervalMs, timeoutMs: initial.healthTimeoutMs }, logger);
  const tally = new ClientTally();
  let boundPorts: number[] = [initial.listen.port];
  // The request path reads `rt` (and `config`, its config) for every request; reload replaces both.
  let rt: Runtime = buildRuntime(initial, { tally, activeChecks: checker.enabled, boundPorts });
  let config = rt.config;
  const budget = new RetryBudget(config.retryBudgetPercent, config.retryBudgetMin);
  const forwardDeps: ForwardDeps = { backends, strategy: () => rt.strategy, settings: () => rt.forwardSettings, budget, metrics, logger };
  const fetchUpstream = createFetchUpstream(forwardDeps);
  const writeUpstream = createWriteUpstream(
    () => rt.responseOptions,
    // Without Accept-Encoding nothing can be compressed; skip the checks (and the Vary it would add:
    // an uncompressed response is acceptable to every client, so a downstream cache may share it).
    (req, upstream) => (getContext(req)?.headers.acceptEncoding === undefined ? upstream : rt.compressor(req, upstream)),
  );
  // A response compression will change takes the general writer; the rest (images, small or
  // already-encoded bodies, clients that accept no coding) the pass-through path.
  const mayCompress = (ctx: RequestContext, status: number, raw: Buffer[]): boolean =>
    config.compression && ctx.headers.acceptEncoding !== undefined && !rawLeftAlone(status, raw, config.compressionMinBytes);
  const cache = createCacheLayer(config, { registry, logger, now: deps.cacheClock });

  const onUpgrade = createUpgradeHandler({
    backends,
    strategy: () => rt.strategy,
    viaName: () => config.viaName,
    servedByHeader: () => config.servedByHeader,
    connectTimeoutMs: () => config.connectTimeoutMs,
    idleTimeoutMs: () => config.tunnelIdleTimeoutMs,
    retries: () => config.retries,
    logger,
  });

  const finish = createFinish(logger, metrics, () => config.accessLog);
  const finishUpgrade = createFinishUpgrade(logger, metrics, () => config.accessLog);
  const handleError = createErrorHandler(logger, metrics, () => Math.max(1, Math.ceil(config.failTimeoutMs / 1000)));
  const passThroughDeps: PassThroughDeps = { ...forwardDeps, responseOptions: () => rt.responseOptions, mayCompress, writeUpstream, handleError };

  /** Gives back the per-client slot a request held (none when it was refused at admission). */
  function release(ctx: RequestContext): void {
    if (ctx.slot === 'short') tally.inFlight.dec(ctx.clientIp);
    else if (ctx.slot === 'long') {
      tally.longLived.dec(ctx.clientIp);
      tally.longLivedTotal--;
    }
    ctx.slot = 'none';
  }

  // One listener function for every response (no closure per request); `this` is the response.
  function onResponseClose(this: http.ServerResponse): void {
    const ctx = getContext(this.req);
    inFlight--;
    if (!ctx) return;
    release(ctx);
    if (!this.writableFinished) {
      // The client went away: stop waiting for a backend on its behalf.
      ctx.gone = true;
      ctx.cancel?.(new ClientGoneError('client closed the connection'));
    }
    finish(this.req, this, ctx);
    ctx.sink?.clientClosed();
  }

  // An event stream's head is being written: it moves from the client's short requests to its
  // long-lived ones, or is refused (the throw reaches the writer, which discards the backend body).
  const onEventStream = (res: http.ServerResponse): void => {
    const ctx = getContext(res.req);
    if (!ctx || ctx.slot !== 'short') return;
    const refusal = longLivedRefusal(ctx, rt.admit);
    if (refusal) throw new LongLivedLimitError(refusal.status, refusal.reason, refusal.retryAfterSeconds ?? 5);
    tally.inFlight.dec(ctx.clientIp);
    tally.longLived.inc(ctx.clientIp);
    tally.longLivedTotal++;
    ctx.slot = 'long';
  };

  function refuse(req: http.IncomingMessage, res: http.ServerResponse, ctx: RequestContext, r: Refusal): void {
    metrics.rejected.inc({ reason: r.reason });
    ctx.error ??= r.reason;
    if (r.status === 429) {
      req.resume();
      writeTooManyRequests(res, r.retryAfterSeconds ?? 1, req.headers.accept);
      return;
    }
    sendError(req, res, r.status, { requestId: ctx.id, close: true, ...(r.detail !== undefined ? { detail: r.detail } : {}), ...(r.retryAfterSeconds !== undefined ? { retryAfterSeconds: r.retryAfterSeconds } : {}) });
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const ctx = createContext(req, rt.trusted, tls);
    ctx.closeWatched = true;
    setContext(req, ctx);
    inFlight++;
    res.on('close', onResponseClose);
    const refusal = admit(REQUEST_PASSES, req, ctx, rt.admit);
    if (refusal !== undefined) {
      refuse(req, res, ctx, refusal);
      return;
    }
    ctx.slot = 'short';
    tally.inFlight.inc(ctx.clientIp);
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

  // Upgrades take the same admission as requests, then count as long-lived until the socket closes.
  const onUpgradeRequest = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const ctx = createContext(req, rt.trusted, tls);
    inFlight++;
    const refusal = admit(UPGRADE_PASSES, req, ctx, rt.admit);
    if (refusal !== undefined) {
      metrics.rejected.inc({ reason: refusal.reason });
      ctx.error ??= refusal.reason;
      socket.on('error', () => socket.destroy());
      const opts = { requestId: ctx.id, ...(refusal.detail !== undefined ? { detail: refusal.detail } : {}), ...(refusal.retryAfterSeconds !== undefined ? { retryAfterSeconds: refusal.retryAfterSeconds } : {}) };
      socket.end(rawError(refusal.status, req.headers.accept, opts));
      inFlight--;
      finishUpgrade(req, refusal.status, true, ctx);
      return;
    }
    ctx.slot = 'long';
    tally.longLived.inc(ctx.clientIp);
    tally.longLivedTotal++;
    onUpgrade(req, socket, head, ctx, (status, completed) => {
      release(ctx);
      inFlight--;
      finishUpgrade(req, status, completed, ctx);
    });
  };

  // Connections per peer, counted from accept to close; a trusted proxy carries many clients.
  const kCountedPeer = Symbol('dramble.countedPeer');
  type CountedSocket = Socket & { [kCountedPeer]?: string };
  function onSocketClose(this: CountedSocket): void {
    const peer = this[kCountedPeer];
    if (peer !== undefined) tally.connections.dec(peer);
  }
  const onConnection = (socket: CountedSocket): void => {
    const peer = normaliseIp(socket.remoteAddress);
    if (peer === '' || rt.trusted.has(peer)) return;
    if (tally.connections.get(peer) >= rt.maxConnectionsPerClient) {
      metrics.rejected.inc({ reason: 'client-connections' });
      socket.destroy();
      return;
    }
    tally.connections.inc(peer);
    socket[kCountedPeer] = peer;
    socket.once('close', onSocketClose);
  };

  const onClientError = createClientErrorHandler(logger, metrics);

  const serverOptions: http.ServerOptions = {
    maxHeaderSize: config.maxHeaderSize,
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(config.headersTimeoutMs / 4))),
  };
  const publicOptions: http.ServerOptions = { ...serverOptions, ServerResponse: responseClassNoticing(onEventStream) };
  let stopTlsWatch: (() => void) | undefined;
  let server: http.Server;
  if (tls) {
    const files = { cert: config.tlsCert ?? '', key: config.tlsKey ?? '' };
    const s = https.createServer({ ...publicOptions, ...readTls(files), handshakeTimeout: config.tlsHandshakeTimeoutMs }, onRequest);
    s.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // A client that opens a connection and never finishes the handshake holds a socket for nothing.
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') metrics.rejected.inc({ reason: 'tls-handshake-timeout' });
      socket.destroy();
    });
    stopTlsWatch = watchTls(s, files, config.tlsWatchMs, logger);
    server = s as unknown as http.Server;
  } else {
    server = http.createServer(publicOptions, onRequest);
  }
  server.maxConnections = config.maxConnections;
  server.on('drop', () => metrics.rejected.inc({ reason: 'max-connections' }));
  server.on('connection', onConnection);
  server.on('clientError', onClientError);
  server.on('upgrade', onUpgradeRequest);

  let redirect: http.Server | undefined;
  if (config.httpsRedirect && config.redirectListen) {
    redirect = http.createServer(serverOptions, (req, res) => {
      // The same Host check as the public listener: a redirect must never point at a foreign host.
      const verdict = rt.admit.serverNames.check(req.headers.host, true);
      const path = req.url ?? '/';
      if (verdict === 400 || verdict === 421 || path[0] !== '/') {
        const status = verdict === 421 ? 421 : 400;
        metrics.rejected.inc({ reason: status === 421 ? 'host-unknown' : 'host-invalid' });
        sendError(req, res, status, { close: true });
        return;
      }
      const name = verdict.replace(/:\d+$/, '');
      const port = config.httpsPublicPort;
      res.writeHead(308, { location: `https://${name}${port === 443 ? '' : `:${port}`}${path}`, 'content-length': 0, connection: 'close' });
      res.end();
    });
  }

  const tokens = () => ({ purge: config.purgeToken, drain: config.drainToken });
  const cacheRoutes: AdminRoute[] = [cacheAdminRoutes(cache, tokens)];
  const admin = new AdminServer({
    listen: config.admin,
    exclusive: deps.privateAdmin ?? false,
    registry,
    logger,
    handler: createAdminHandler({ backends, tokens, strategy: () => rt.strategy.name, extra: cacheRoutes }),
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
  // Host may name the ports actually bound (port 0 in tests, or a redirect listener's).
  boundPorts = [address.port, ...(redirectAddress ? [redirectAddress.port] : [])];
  rt = buildRuntime(config, { tally, activeChecks: checker.enabled, boundPorts }, rt);
  logger.info({ listen: address, admin: adminAddress, tls, strategy: rt.strategy.name, backends: backends.all().length, discovery: config.discovery }, 'balancer listening');

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
      // Listen addresses and TLS mode stay as started; everything else is rebuilt from `next`.
      const kept = { ...next, listen: config.listen, admin: config.admin, tlsCert: config.tlsCert, tlsKey: config.tlsKey };
      cache.reconfigure(kept);
      budget.configure(kept.retryBudgetPercent, kept.retryBudgetMin);
      backends.reconfigure(poolSettings(kept), healthPolicy(kept), kept.ewmaDecayMs);
      checker.reconfigure({ path: kept.healthPath, port: kept.healthPort, intervalMs: kept.healthIntervalMs, timeoutMs: kept.healthTimeoutMs });
      rt = buildRuntime(kept, { tally, activeChecks: checker.enabled, boundPorts }, rt);
      config = rt.config;
      logger.level = config.logLevel;
      server.headersTimeout = config.headersTimeoutMs;
      server.requestTimeout = config.requestTimeoutMs;
      server.keepAliveTimeout = config.keepAliveTimeoutMs;
      server.maxConnections = config.maxConnections;
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

