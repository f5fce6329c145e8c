// Turns the plan into processes the supervisor can start: command lines, log files, readiness
// checks and stop grace periods for MariaDB, Redis and the three services. No secret is ever on a
// command line (world-readable in /proc/<pid>/cmdline and `ps`): services get theirs in the
// environment, MariaDB in its 0600 init file, Redis in its 0600 ACL file.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { answersOk } from './api.js';
import { mariadbAnswers, mariadbArgs, type MariaDBBinaries } from './local/mariadb.js';
import { redisAnswers, redisArgs, writeRedisAcl } from './local/redis.js';
import { adaptFlags, loadServiceSettings, serviceCommand, type ServiceName } from './services.js';
import { paths, type Credentials } from './state.js';
import type { ServiceSpec } from './plan.js';
import type { ManagedSpec } from './supervisor.js';

export function mysqlSpec(dir: string, bin: MariaDBBinaries, name: string, index: number, port: number, readOnly: boolean, c: Credentials): ManagedSpec {
  const base = paths(dir).mysql(name);
  const args = mariadbArgs({ base, port, serverId: index, readOnly });
  return {
    name,
    role: 'mysql',
    pid: 0,
    port,
    url: `mysql://127.0.0.1:${port}`,
    marker: `--datadir=${join(base, 'data')}`,
    command: bin.mariadbd,
    args,
    log: join(base, 'error.log'),
    ready: () => mariadbAnswers(port, c.mysqlUser, c.mysqlPassword),
    readyTimeoutMs: 90_000,
    graceMs: 30_000,
    // A server that comes back must not take writes until the db-manager says it is the primary.
    restartArgs: (a) => a.map((x) => (x.startsWith('--read-only=') ? '--read-only=ON' : x)),
  };
}

export function redisSpec(dir: string, binary: string, port: number, c: Credentials): ManagedSpec {
  const p = paths(dir);
  mkdirSync(p.redis, { recursive: true });
  writeRedisAcl(p.redis, { app: c.redisAppPassword, manager: c.redisManagerPassword });
  return {
    name: 'redis',
    role: 'redis',
    pid: 0,
    port,
    url: `redis://127.0.0.1:${port}`,
    // redis-server rewrites its process title to "<binary> 127.0.0.1:<port>".
    marker: `127.0.0.1:${port}`,
    command: binary,
    args: redisArgs(port, p.redis),
    log: join(p.logs, 'redis.log'),
    ready: () => redisAnswers(port),
    readyTimeoutMs: 30_000,
    graceMs: 10_000,
  };
}

const settingsCache = new Map<ServiceName, Awaited<ReturnType<typeof loadServiceSettings>>>();

export class SettingsUnavailableError extends Error {
  constructor(readonly service: ServiceName) {
    super(`could not load the settings table of services/${service} (src/config.ts or dist/config.js), so it is unknown which of its flags are secrets; nothing started`);
    this.name = 'SettingsUnavailableError';
  }
}

/**
 * A service process; flags the service does not know are dropped and returned for a warning, secret
 * ones travel in `env` (never recorded in cluster.json).
 */
export async function serviceSpec(dir: string, s: ServiceSpec): Promise<{ spec: ManagedSpec; dropped: string[] }> {
  if (!settingsCache.has(s.service)) settingsCache.set(s.service, await loadServiceSettings(s.service));
  const settings = settingsCache.get(s.service);
  if (!settings) throw new SettingsUnavailableError(s.service);
  const { args, env, dropped } = adaptFlags(settings, s.flags);
  const cmd = serviceCommand(s.service);
  const admin = s.adminUrl;
  const spec: ManagedSpec = {
    name: s.name,
    role: s.role,
    pid: 0,
    port: s.port,
    adminUrl: admin,
    marker: `--admin ${new URL(admin).host}`,
    command: cmd.command,
    args: [...cmd.args, ...args],
    env,
    cwd: cmd.cwd,
    log: join(paths(dir).logs, `${s.name}.log`),
    ready: async () => (await answersOk(`${admin}/healthz`)) && (await answersOk(`${admin}/readyz`)),
    readyTimeoutMs: 120_000,
    graceMs: 15_000,
  };
  if (s.url) spec.url = s.url;
  return { spec, dropped };
}
