// The balancer's settings: one table (flag, BALANCER_* env var, config-file key, default, doc),
// validated once at start. Names follow nginx/HAProxy where they have an obvious equivalent.
import { ConfigError, defineSettings, loadConfig, setting, type ConfigOf, type LoadOptions } from '@dramble/lib';
import { z } from 'zod';
import { cacheSettings } from './cache/settings.js';

const cidr = z.string().refine((v) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(v.trim()), 'must be an IP or CIDR, e.g. 10.0.0.0/8');
// A host name (RFC 1123 labels), optionally `*.` for any subdomain, or an IP literal.
const serverName = z
  .string()
  .refine((v) => /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(v.trim()) || /^\[?[0-9a-fA-F:.]+\]?$/.test(v.trim()), 'must be a host name (example.org, *.example.org) or an IP address');
const hashOn = z
  .string()
  .refine((v) => v === 'ip' || /^cookie:[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v), 'must be "ip" or "cookie:<name>"')
  .optional();

export const settings = defineSettings({
  listen: { schema: setting.hostPort('127.0.0.1:8080'), env: 'BALANCER_LISTEN', flag: 'listen', doc: 'Public listener (host:port).' },
  admin: { schema: setting.hostPort('127.0.0.1:9080'), env: 'BALANCER_ADMIN', flag: 'admin', doc: 'Admin listener: /healthz /readyz /metrics /api/*.' },
  purgeToken: { schema: setting.optionalString(), env: 'BALANCER_PURGE_TOKEN', flag: 'purge-token', doc: 'Bearer token for POST /api/cache/purge (the app holds it); unset = purges are refused.', secret: true },
  drainToken: { schema: setting.optionalString(), env: 'BALANCER_DRAIN_TOKEN', flag: 'drain-token', doc: 'Bearer token for POST /api/backends/:id/drain and /undrain (operators only); unset = drain/undrain are refused.', secret: true },
  adminToken: { schema: setting.optionalString(), env: 'BALANCER_ADMIN_TOKEN', flag: 'admin-token', doc: 'Retired (it granted both purge and drain): the balancer refuses to start with it; use --purge-token and --drain-token.', secret: true },
  logLevel: { schema: setting.enumOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'), env: 'BALANCER_LOG_LEVEL', flag: 'log-level', doc: 'pino log level.' },
  accessLog: { schema: setting.bool(true), env: 'BALANCER_ACCESS_LOG', flag: 'access-log', doc: 'One JSON log line per request.' },
  shutdownDeadlineMs: { schema: setting.int(10_000, 0), env: 'BALANCER_SHUTDOWN_DEADLINE_MS', flag: 'shutdown-deadline-ms', doc: 'How long SIGTERM waits for in-flight requests.' },
  workers: { schema: setting.int(1, 1, 64), env: 'BALANCER_WORKERS', flag: 'workers', doc: 'Worker processes sharing the port (node:cluster).' },

  // discovery
  discovery: { schema: setting.enumOf(['static', 'dns', 'kubernetes'], 'static'), env: 'BALANCER_DISCOVERY', flag: 'discovery', doc: 'Where backends come from: --backend list, DNS A records of --backend-host, or Kubernetes EndpointSlices of --service.' },
  backends: { schema: setting.list(setting.url()), env: 'BALANCER_BACKENDS', flag: 'backend', list: true, doc: 'Backend origin (static discovery), e.g. http://127.0.0.1:3001; optional name after #, e.g. http://10.0.0.5:3000#pi2.' },
  backendHost: { schema: setting.optionalString(), env: 'BALANCER_BACKEND_HOST', flag: 'backend-host', doc: 'DNS name whose A records are the backends (dns discovery).' },
  backendPort: { schema: setting.int(undefined, 1, 65535).optional(), env: 'BALANCER_BACKEND_PORT', flag: 'backend-port', doc: 'Backend port for dns discovery (default 3000) and kubernetes discovery (default: the EndpointSlice\'s port).', defaultDoc: '(3000 for dns; the slice port for kubernetes)' },
  dnsIntervalMs: { schema: setting.int(5000, 100), env: 'BALANCER_DNS_INTERVAL_MS', flag: 'dns-interval-ms', doc: 'How often dns discovery re-resolves.' },
  service: { schema: setting.optionalString(), env: 'BALANCER_SERVICE', flag: 'service', doc: 'Kubernetes Service whose EndpointSlices are the backends.' },
  namespace: { schema: setting.string('default'), env: 'BALANCER_NAMESPACE', flag: 'namespace', doc: 'Kubernetes namespace of --service.' },
  kubeconfig: { schema: setting.optionalString(), env: 'BALANCER_KUBECONFIG', flag: 'kubeconfig', doc: 'kubeconfig file; unset = in-cluster service account, then ~/.kube/config.' },

  // balancing
  strategy: { schema: setting.enumOf(['p2c-ewma', 'round-robin', 'least-outstanding', 'hash'], 'p2c-ewma'), env: 'BALANCER_STRATEGY', flag: 'strategy', doc: 'Backend choice: power of two choices over EWMA latency, weighted round robin, least outstanding requests, or consistent hashing (--hash-on).' },
  hashOn: { schema: hashOn, env: 'BALANCER_HASH_ON', flag: 'hash-on', doc: 'Stickiness key for --strategy hash: cookie:<name> or ip.' },
  ewmaDecayMs: { schema: setting.int(10_000, 100), env: 'BALANCER_EWMA_DECAY_MS', flag: 'ewma-decay-ms', doc: 'Time constant of the EWMA latency used by p2c-ewma.' },
  slowStartMs: { schema: setting.int(10_000, 0), env: 'BALANCER_SLOW_START_MS', flag: 'slow-start-ms', doc: 'A re-admitted backend ramps from 10% to full weight over this time.' },

  // health
  healthPath: { schema: setting.string('/healthz'), env: 'BALANCER_HEALTH_PATH', flag: 'health-path', doc: 'Active health check path.' },
  healthPort: { schema: setting.int(0, 0, 65535), env: 'BALANCER_HEALTH_PORT', flag: 'health-port', doc: 'Port for active checks (the app serves /healthz on its admin port); 0 = the backend port.' },
  healthIntervalMs: {
    schema: setting.int(0, 0),
    env: 'BALANCER_HEALTH_INTERVAL_MS',
    flag: 'health-interval-ms',
    doc: 'Active check interval, e.g. 2000; 0 (default) = passive health only (the app serves /healthz on its admin port: set --health-port too).',
  },
  healthTimeoutMs: { schema: setting.int(1000, 1), env: 'BALANCER_HEALTH_TIMEOUT_MS', flag: 'health-timeout-ms', doc: 'Active check timeout.' },
  healthRise: { schema: setting.int(2, 1), env: 'BALANCER_HEALTH_RISE', flag: 'health-rise', doc: 'Consecutive passing checks that bring a backend up.' },
  healthFall: { schema: setting.int(3, 1), env: 'BALANCER_HEALTH_FALL', flag: 'health-fall', doc: 'Consecutive failing checks that take a backend down.' },
  maxFails: { schema: setting.int(3, 1), env: 'BALANCER_MAX_FAILS', flag: 'max-fails', doc: 'Consecutive passive failures (connect errors, resets, timeouts, --fail-status answers) that eject a backend; the last healthy backend is never ejected.' },
  failTimeoutMs: { schema: setting.int(5000, 1), env: 'BALANCER_FAIL_TIMEOUT_MS', flag: 'fail-timeout-ms', doc: 'First ejection length; doubles on each failed half-open trial.' },
  maxEjectMs: { schema: setting.int(60_000, 1), env: 'BALANCER_MAX_EJECT_MS', flag: 'max-eject-ms', doc: 'Upper bound for the ejection backoff.' },

  // backends that fail or fill up: what counts against a backend, what never happens (ejecting the
  // last healthy one), and how much may wait for one
  failStatuses: {
    schema: setting.list(z.coerce.number().int().min(500).max(599), []),
    env: 'BALANCER_FAIL_STATUSES',
    flag: 'fail-status',
    list: true,
    defaultDoc: '(none)',
    doc: 'Backend response statuses counted as passive failures, e.g. 502 (repeatable); none by default: only connection errors, resets and timeouts count. A 503 with Retry-After never counts.',
  },
  panicThresholdPercent: {
    schema: setting.int(50, 0, 100),
    env: 'BALANCER_PANIC_THRESHOLD_PERCENT',
    flag: 'panic-threshold-percent',
    doc: 'Below this percentage of healthy backends, balance over every backend, healthy or not (Envoy panic mode); 0 = never.',
  },
  backendQueue: {
    schema: setting.int(128, 0),
    env: 'BALANCER_BACKEND_QUEUE',
    flag: 'backend-queue',
    doc: 'Requests that may wait per backend once its --backend-connections are busy; beyond it another backend is picked, or 503 with Retry-After at once when none has room.',
  },

  // retries
  retries: { schema: setting.int(2, 0, 10), env: 'BALANCER_RETRIES', flag: 'retries', doc: 'Retries on another backend for a request that got no response byte (idempotent, or never sent).' },
  retryBudgetPercent: { schema: setting.number(20, 0, 100), env: 'BALANCER_RETRY_BUDGET_PERCENT', flag: 'retry-budget-percent', doc: 'Retries allowed as a percentage of requests over the last 10 s (plus --retry-budget-min).' },
  retryBudgetMin: { schema: setting.int(20, 0), env: 'BALANCER_RETRY_BUDGET_MIN', flag: 'retry-budget-min', doc: 'Retries always allowed per 10 s window, whatever the traffic.' },

  // timeouts and limits
  connectTimeoutMs: { schema: setting.int(3000, 1), env: 'BALANCER_CONNECT_TIMEOUT_MS', flag: 'connect-timeout-ms', doc: 'Backend connect timeout.' },
  responseTimeoutMs: { schema: setting.int(30_000, 1), env: 'BALANCER_RESPONSE_TIMEOUT_MS', flag: 'response-timeout-ms', doc: 'Time from request sent to backend response headers (504 after).' },
  idleTimeoutMs: { schema: setting.int(60_000, 1), env: 'BALANCER_IDLE_TIMEOUT_MS', flag: 'idle-timeout-ms', doc: 'Longest pause inside a backend response body.' },
  keepAliveTimeoutMs: { schema: setting.int(5000, 1), env: 'BALANCER_KEEPALIVE_TIMEOUT_MS', flag: 'keepalive-timeout-ms', doc: 'Idle client keep-alive connections are closed after this.' },
  headersTimeoutMs: { schema: setting.int(10_000, 1), env: 'BALANCER_HEADERS_TIMEOUT_MS', flag: 'headers-timeout-ms', doc: 'Client must send its request headers within this (slowloris).' },
  requestTimeoutMs: { schema: setting.int(300_000, 0), env: 'BALANCER_REQUEST_TIMEOUT_MS', flag: 'request-timeout-ms', doc: 'Client must send its whole request within this; 0 = no limit.' },
  maxHeaderSize: { schema: setting.int(16_384, 1024), env: 'BALANCER_MAX_HEADER_SIZE', flag: 'max-header-size', doc: 'Largest request head in bytes (431 above).' },
  maxBodySize: { schema: setting.int(1024 * 1024 * 1024, 0), env: 'BALANCER_MAX_BODY_SIZE', flag: 'max-body-size', doc: 'Largest request body in bytes (413 above); 0 = no limit.' },
  backendConnections: { schema: setting.int(128, 1), env: 'BALANCER_BACKEND_CONNECTIONS', flag: 'backend-connections', doc: 'Most pooled keep-alive connections per backend.' },
  trustedProxies: { schema: setting.list(cidr), env: 'BALANCER_TRUSTED_PROXIES', flag: 'trusted-proxies', list: true, doc: 'CIDRs whose incoming X-Forwarded-* headers are kept; from anyone else they are replaced.' },
  servedByHeader: { schema: setting.string('X-Served-By'), env: 'BALANCER_SERVED_BY_HEADER', flag: 'served-by-header', doc: 'Response header naming the backend that served.' },
  viaName: { schema: setting.string('dramble-balancer'), env: 'BALANCER_VIA_NAME', flag: 'via-name', doc: 'Pseudonym in the Via header.' },

  // TLS
  tlsCert: { schema: setting.optionalString(), env: 'BALANCER_TLS_CERT', flag: 'tls-cert', doc: 'PEM certificate (chain) file; with --tls-key the public listener speaks HTTPS. Reloaded when the file changes.' },
  tlsKey: { schema: setting.optionalString(), env: 'BALANCER_TLS_KEY', flag: 'tls-key', doc: 'PEM private key file.', secret: true },
  redirectListen: { schema: setting.hostPort().optional(), env: 'BALANCER_REDIRECT_LISTEN', flag: 'redirect-listen', doc: 'Plain HTTP listener that redirects to HTTPS (used with --https-redirect).' },
  httpsRedirect: { schema: setting.bool(false), env: 'BALANCER_HTTPS_REDIRECT', flag: 'https-redirect', doc: 'Answer plain HTTP on --redirect-listen with 308 to https://.' },
  hsts: { schema: setting.int(0, 0), env: 'BALANCER_HSTS', flag: 'hsts', doc: 'Strict-Transport-Security max-age in seconds on HTTPS responses; 0 = off.' },
  tlsWatchMs: { schema: setting.int(2000, 100), env: 'BALANCER_TLS_WATCH_MS', flag: 'tls-watch-ms', doc: 'How often the cert/key files are checked for changes.' },

  // admission: who may use the public listener, and how much of it (request/admit.ts)
  serverName: {
    schema: setting.list(serverName, ['localhost']),
    env: 'BALANCER_SERVER_NAME',
    flag: 'server-name',
    list: true,
    doc: 'Host names the site answers for (nginx server_name), e.g. dramble.example.org or *.example.org; loopback and the --listen address are always accepted. Other Hosts get 421, malformed ones 400.',
  },
  maxConnections: { schema: setting.int(2048, 1), env: 'BALANCER_MAX_CONNECTIONS', flag: 'max-connections', doc: 'Most open client connections on the public listener; further ones are closed at accept.' },
  maxConnectionsPerClient: { schema: setting.int(64, 1), env: 'BALANCER_MAX_CONNECTIONS_PER_CLIENT', flag: 'max-connections-per-client', doc: 'Most open connections from one peer IP (trusted proxies exempt); further ones are closed at accept.' },
  maxInFlightPerClient: { schema: setting.int(32, 1), env: 'BALANCER_MAX_IN_FLIGHT_PER_CLIENT', flag: 'max-in-flight-per-client', doc: 'Most requests one client IP may have in flight (long-lived responses not counted); beyond it 429.' },
  maxLongLived: { schema: setting.int(64, 1), env: 'BALANCER_MAX_LONG_LIVED', flag: 'max-long-lived', doc: 'Most long-lived responses (text/event-stream, WebSocket tunnels) open at once, so they cannot hold the backend connections short requests need; beyond it 503.' },
  maxLongLivedPerClient: { schema: setting.int(8, 1), env: 'BALANCER_MAX_LONG_LIVED_PER_CLIENT', flag: 'max-long-lived-per-client', doc: 'Most long-lived responses one client IP may hold open; beyond it 429.' },
  upgradeProtocols: {
    schema: setting.list(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+(\/[!#$%&'*+.^_`|~0-9A-Za-z-]+)?$/, 'must be a protocol token, e.g. websocket'), ['websocket']),
    env: 'BALANCER_UPGRADE_PROTOCOLS',
    flag: 'upgrade-protocol',
    list: true,
    doc: 'Upgrade protocols tunnelled to backends (case-insensitive); an Upgrade request for any other protocol gets 400 and is not forwarded.',
  },
  tunnelIdleTimeoutMs: { schema: setting.int(300_000, 1), env: 'BALANCER_TUNNEL_IDLE_TIMEOUT_MS', flag: 'tunnel-idle-timeout-ms', doc: 'A tunnel (WebSocket) with no bytes either way for this long is closed.' },
  tlsHandshakeTimeoutMs: { schema: setting.int(10_000, 1), env: 'BALANCER_TLS_HANDSHAKE_TIMEOUT_MS', flag: 'tls-handshake-timeout-ms', doc: 'A client must finish the TLS handshake within this.' },
  httpsPublicPort: { schema: setting.int(443, 1, 65535), env: 'BALANCER_HTTPS_PUBLIC_PORT', flag: 'https-public-port', doc: 'The port clients reach HTTPS on (behind a NodePort or port forward it differs from --listen); --https-redirect points there.' },

  // edge cache, compression, rate limiting (declared in src/cache/settings.ts)
  ...cacheSettings,
});

export type BalancerConfig = ConfigOf<typeof settings>;

/** Reads the config (defaults < --config file < env < flags); throws ConfigError naming the setting. */
export function loadBalancerConfig(options: LoadOptions = {}): BalancerConfig {
  const config = loadConfig(settings, { configFileEnv: 'BALANCER_CONFIG', ...options });
  return checkConfig(config);
}

/** Cross-field checks the per-setting schemas cannot express. */
export function checkConfig(config: BalancerConfig): BalancerConfig {
  const fail = (key: string, message: string): never => {
    throw new ConfigError(`invalid configuration:\n  setting "${key}" ${message}`, key);
  };
  // The old single token was held by every app pod for purging; mapping it to either new token would
  // silently keep granting drain to purge holders, so a deployment that still sets it stops here.
  if (config.adminToken !== undefined) fail('adminToken', '(--admin-token, BALANCER_ADMIN_TOKEN) is retired: it granted both purge and drain; set --purge-token (for the app) and --drain-token (for operators) instead');
  if (config.purgeToken !== undefined && config.purgeToken === config.drainToken) fail('drainToken', '(--drain-token) must differ from --purge-token: every app pod holds the purge token');
  if (config.discovery === 'dns' && !config.backendHost) fail('backendHost', '(--backend-host) is required with --discovery dns');
  if (config.discovery === 'kubernetes' && !config.service) fail('service', '(--service) is required with --discovery kubernetes');
  if (config.strategy === 'hash' && !config.hashOn) fail('hashOn', '(--hash-on) is required with --strategy hash');
  // Node refuses a headers timeout longer than the whole-request timeout.
  if (config.requestTimeoutMs > 0 && config.headersTimeoutMs > config.requestTimeoutMs) fail('headersTimeoutMs', '(--headers-timeout-ms) must not exceed --request-timeout-ms');
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) fail('tlsKey', '(--tls-cert and --tls-key) must be given together');
  if (config.httpsRedirect && (!config.tlsCert || !config.redirectListen)) fail('httpsRedirect', '(--https-redirect) needs --tls-cert/--tls-key and --redirect-listen');
  return config;
}
