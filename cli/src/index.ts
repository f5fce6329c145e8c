// What tests and other tools use from the CLI without running it.
export { parse, parseDuration, USAGE, UsageError } from './args.js';
export { wantedPorts, assignPorts, isPortFree, freePort } from './ports.js';
export { serviceSpecs, parseMySQLUrls, DATABASE } from './plan.js';
export { adaptFlags, loadServiceSettings, serviceCommand, repoRoot } from './services.js';
export { mysqlSpec, redisSpec, serviceSpec } from './specs.js';
export { Supervisor } from './supervisor.js';
export { initSql, mariadbArgs, findMariaDB } from './local/mariadb.js';
export { findRedis } from './local/redis.js';
export { missingBinariesMessage } from './commands/up.js';
export { collectStatus, formatStatus } from './commands/status.js';
export { percentile } from './load/stats.js';
export { requestsPerBackend, parseSamples, matchBackend } from './dashboard/metrics.js';
export { normalizeEvents } from './dashboard/collector.js';
export { startDashboard } from './dashboard/server.js';
export { table } from './output.js';
export * from './state.js';
