// The db-manager's settings: one table read from defaults < --config file < DBM_* env < flags.
import { defineSettings, setting, type ConfigOf } from '@dramble/lib';
import { z } from 'zod';

const hostPortList = setting.list(
  z.string().refine((v) => /^\[?[^\]\s]+\]?:\d{1,5}$/.test(v.trim()), 'each instance must be host:port, e.g. 10.0.0.11:3306'),
);

export const settings = defineSettings({
  instances: { schema: hostPortList, env: 'DBM_INSTANCES', flag: 'instances', list: true, doc: 'MySQL/MariaDB instances as host:port (comma-separated in the env var); order is the promotion priority' },
  mysqlUser: { schema: setting.string('root'), env: 'DBM_MYSQL_USER', flag: 'mysql-user', doc: 'user the manager connects as (needs SUPER/ALL: read_only, CHANGE MASTER, KILL)' },
  mysqlPassword: { schema: setting.string(''), env: 'DBM_MYSQL_PASSWORD', flag: 'mysql-password', secret: true, doc: 'password of --mysql-user' },
  replicationUser: { schema: setting.string('repl'), env: 'DBM_REPLICATION_USER', flag: 'replication-user', doc: 'user replicas connect to the primary as (created by bootstrap)' },
  replicationPassword: { schema: setting.string(''), env: 'DBM_REPLICATION_PASSWORD', flag: 'replication-password', secret: true, doc: 'password of --replication-user' },
  primary: { schema: setting.optionalString(), env: 'DBM_PRIMARY', flag: 'primary', defaultDoc: '(first instance)', doc: 'preferred initial primary (host:port) when no replication is set up yet' },
  flavor: { schema: setting.enumOf(['auto', 'mariadb', 'mysql'] as const, 'auto'), env: 'DBM_FLAVOR', flag: 'flavor', doc: 'SQL dialect: auto detects from @@version' },
  redisUrl: { schema: setting.optionalString(), env: 'DBM_REDIS_URL', flag: 'redis-url', secret: true, doc: 'publish the topology to this Redis (key and channel dramble:topology); unset = do not publish' },
  admin: { schema: setting.hostPort('127.0.0.1:9090'), env: 'DBM_ADMIN', flag: 'admin', doc: 'admin listener: /healthz /readyz /metrics /api/*' },
  adminToken: { schema: setting.optionalString(), env: 'DBM_ADMIN_TOKEN', flag: 'admin-token', secret: true, doc: 'bearer token for POST /api/*; unset = mutating calls are refused' },
  probeIntervalMs: { schema: setting.int(1000, 50), env: 'DBM_PROBE_INTERVAL_MS', flag: 'probe-interval-ms', doc: 'how often every instance is probed' },
  probeTimeoutMs: { schema: setting.int(500, 50), env: 'DBM_PROBE_TIMEOUT_MS', flag: 'probe-timeout-ms', doc: 'connect and query timeout of one probe; a probe slower than this failed' },
  failoverAfterProbes: { schema: setting.int(3, 1), env: 'DBM_FAILOVER_AFTER_PROBES', flag: 'failover-after-probes', doc: 'consecutive failed probes before the primary can be declared dead' },
  failoverMinMs: { schema: setting.int(1500, 0), env: 'DBM_FAILOVER_MIN_MS', flag: 'failover-min-ms', doc: 'the failed probes must span at least this long' },
  failoverCooldownMs: { schema: setting.int(60_000, 0), env: 'DBM_FAILOVER_COOLDOWN_MS', flag: 'failover-cooldown-ms', doc: 'no second automatic failover within this time' },
  maxPromotionLagSeconds: { schema: setting.number(30), env: 'DBM_MAX_PROMOTION_LAG_SECONDS', flag: 'max-promotion-lag-seconds', doc: 'never promote a replica further behind than this' },
  laggingReplicaSeconds: { schema: setting.number(10), env: 'DBM_LAGGING_REPLICA_SECONDS', flag: 'lagging-replica-seconds', doc: 'report a replica as lagging above this' },
  semiSync: {
    schema: setting.bool(true),
    env: 'DBM_SEMI_SYNC',
    flag: 'semi-sync',
    doc: 'semi-synchronous replication (AFTER_SYNC): the primary waits for a replica\'s ack whenever a healthy replica exists, and stops waiting (event) when none is left',
  },
  replicaSilenceMs: {
    schema: setting.int(2000, 500),
    env: 'DBM_REPLICA_SILENCE_MS',
    flag: 'replica-silence-ms',
    doc: 'a replica whose IO thread says Yes but received nothing (no event, no heartbeat) for this long has lost the primary',
  },
  autoRejoin: { schema: setting.bool(true), env: 'DBM_AUTO_REJOIN', flag: 'auto-rejoin', doc: 're-attach a returning old primary as a replica when it has no errant GTIDs' },
  bootstrap: { schema: setting.bool(true), env: 'DBM_BOOTSTRAP', flag: 'bootstrap', doc: 'set up replication on fresh servers at start (idempotent)' },
  switchoverTimeoutMs: { schema: setting.int(10_000, 100), env: 'DBM_SWITCHOVER_TIMEOUT_MS', flag: 'switchover-timeout-ms', doc: 'a switchover waiting longer than this for the target to catch up is rolled back' },
  election: { schema: setting.enumOf(['none', 'redis', 'kubernetes'] as const, 'none'), env: 'DBM_ELECTION', flag: 'election', doc: 'leader election between managers: none (always act), redis lock, or Kubernetes Lease' },
  electionTtlMs: { schema: setting.int(5000, 500), env: 'DBM_ELECTION_TTL_MS', flag: 'election-ttl-ms', doc: 'lease/lock duration; a standby takes over within this' },
  identity: { schema: setting.optionalString(), env: 'DBM_IDENTITY', flag: 'identity', defaultDoc: '(hostname-pid)', doc: 'this manager\'s name in the lease/lock' },
  hookCommand: { schema: setting.optionalString(), env: 'DBM_HOOK_COMMAND', flag: 'hook-command', doc: 'shell command run on every event (env DRAMBLE_EVENT, DRAMBLE_EVENT_JSON)' },
  discovery: { schema: setting.enumOf(['static', 'kubernetes'] as const, 'static'), env: 'DBM_DISCOVERY', flag: 'discovery', doc: 'where instances come from: --instances, or pods selected by --pod-selector' },
  namespace: { schema: setting.string('default'), env: 'DBM_NAMESPACE', flag: 'namespace', doc: 'Kubernetes namespace of the MySQL pods and the Lease' },
  podSelector: { schema: setting.string('app.kubernetes.io/name=mysql'), env: 'DBM_POD_SELECTOR', flag: 'pod-selector', doc: 'label selector of the MySQL pods' },
  mysqlPort: { schema: setting.int(3306, 1, 65535), env: 'DBM_MYSQL_PORT', flag: 'mysql-port', doc: 'port of MySQL in discovered pods' },
  headlessService: {
    schema: setting.optionalString(),
    env: 'DBM_HEADLESS_SERVICE',
    flag: 'headless-service',
    doc: 'headless Service of the MySQL pods: address them as <pod>.<service> (stable across restarts) instead of by pod IP',
  },
  // Re-seeding an instance with errant transactions (recovery/reseed.ts).
  reseedErrant: { schema: setting.bool(true), env: 'DBM_RESEED_ERRANT', flag: 'reseed-errant', doc: 're-seed an instance with errant GTIDs from the primary (after exporting them to --errant-export-dir) and attach it as a replica' },
  errantExportDir: { schema: setting.string('errant-transactions'), env: 'DBM_ERRANT_EXPORT_DIR', flag: 'errant-export-dir', doc: 'directory (relative to the working directory) the errant transactions of a re-seeded instance are written to, one .sql file each' },
  logLevel: { schema: setting.enumOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'), env: 'DBM_LOG_LEVEL', flag: 'log-level', doc: 'log level' },
  shutdownDeadlineMs: { schema: setting.int(5000, 0), env: 'DBM_SHUTDOWN_DEADLINE_MS', flag: 'shutdown-deadline-ms', doc: 'how long shutdown may take' },
});

export type DbManagerConfig = ConfigOf<typeof settings>;
