// The files `dramble up` keeps under its data dir: cluster.json (what runs where) and
// credentials.json (passwords and tokens, mode 0600). Every other command reads them.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

export type Role = 'supervisor' | 'mysql' | 'redis' | 'db-manager' | 'app' | 'balancer';

export interface ProcessEntry {
  name: string;
  role: Role;
  pid: number;
  port: number;
  url?: string;
  adminUrl?: string;
  /** A string found in /proc/<pid>/cmdline, so a reused pid is never mistaken for ours. */
  marker: string;
  /** Start time of the pid (clock ticks since boot), the other guard against a reused pid. */
  startTime?: number;
  command: string;
  args: string[];
  log?: string;
}

export interface ClusterFile {
  version: 1;
  dir: string;
  state: 'starting' | 'running' | 'stopping' | 'stopped';
  startedAt: string;
  balancerUrl?: string;
  dashboardUrl?: string;
  /** Where the running `dramble up` accepts restart requests (bearer: credentials.controlToken). */
  controlUrl?: string;
  mysql: {
    external: boolean;
    instances: Array<{ name: string; host: string; port: number }>;
    /** Name of the instance the db-manager last reported as primary (started writable next time). */
    primary?: string;
  };
  redisUrl?: string;
  processes: ProcessEntry[];
}

export interface Credentials {
  adminEmail: string;
  adminPassword: string;
  mysqlUser: string;
  mysqlPassword: string;
  replicationUser: string;
  replicationPassword: string;
  appUser: string;
  appPassword: string;
  dbManagerToken: string;
  appToken: string;
  /** The balancer's --purge-token: the apps hold it. */
  balancerPurgeToken: string;
  /** The balancer's --drain-token: only operators (and this CLI) hold it, never an app. */
  balancerDrainToken: string;
  controlToken: string;
  /** Redis ACL users (cli/src/local/redis-acl.ts): the apps' and the db-manager's. */
  redisAppPassword: string;
  redisManagerPassword: string;
}

export function paths(dir: string) {
  const root = resolve(dir);
  return {
    root,
    cluster: join(root, 'cluster.json'),
    credentials: join(root, 'credentials.json'),
    ports: join(root, 'ports.json'),
    logs: join(root, 'logs'),
    mysql: (name: string) => join(root, 'mysql', name),
    mysqlTemplate: join(root, 'mysql', '.template'),
    redis: join(root, 'redis'),
  };
}

export function secret(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

export function newCredentials(): Credentials {
  return {
    adminEmail: 'editor@dramble.local',
    adminPassword: secret(12),
    mysqlUser: 'dramble',
    mysqlPassword: secret(),
    replicationUser: 'repl',
    replicationPassword: secret(),
    appUser: 'app',
    appPassword: secret(),
    dbManagerToken: secret(),
    appToken: secret(),
    balancerPurgeToken: secret(),
    balancerDrainToken: secret(),
    controlToken: secret(),
    redisAppPassword: secret(),
    redisManagerPassword: secret(),
  };
}

function writeJsonAtomic(file: string, data: unknown, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/** Reads credentials.json, creating it (mode 0600) with fresh secrets on the first run. */
export function loadOrCreateCredentials(dir: string): { credentials: Credentials; created: boolean } {
  const p = paths(dir);
  if (existsSync(p.credentials)) {
    const stored = JSON.parse(readFileSync(p.credentials, 'utf8')) as Partial<Credentials>;
    // Fill in anything a newer version added, keep everything already issued.
    const credentials = { ...newCredentials(), ...stored };
    if (Object.keys(stored).length !== Object.keys(credentials).length) writeJsonAtomic(p.credentials, credentials, 0o600);
    return { credentials, created: false };
  }
  mkdirSync(p.root, { recursive: true });
  const credentials = newCredentials();
  writeJsonAtomic(p.credentials, credentials, 0o600);
  return { credentials, created: true };
}

export function readCredentials(dir: string): Credentials | undefined {
  const p = paths(dir);
  if (!existsSync(p.credentials)) return undefined;
  return JSON.parse(readFileSync(p.credentials, 'utf8')) as Credentials;
}

export function readCluster(dir: string): ClusterFile | undefined {
  const p = paths(dir);
  if (!existsSync(p.cluster)) return undefined;
  return JSON.parse(readFileSync(p.cluster, 'utf8')) as ClusterFile;
}

/** cluster.json holds no secret (they travel in the children's environment), but it says where everything listens: private too. */
export function writeCluster(dir: string, cluster: ClusterFile): void {
  mkdirSync(paths(dir).root, { recursive: true });
  writeJsonAtomic(paths(dir).cluster, cluster, 0o600);
}

/** Ports chosen on the first run are kept: replicas remember their primary by host:port. */
export function readPorts(dir: string): Record<string, number> {
  const p = paths(dir);
  if (!existsSync(p.ports)) return {};
  return JSON.parse(readFileSync(p.ports, 'utf8')) as Record<string, number>;
}

export function writePorts(dir: string, ports: Record<string, number>): void {
  mkdirSync(paths(dir).root, { recursive: true });
  writeJsonAtomic(paths(dir).ports, ports, 0o644);
}
