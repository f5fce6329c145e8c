// Command-line parsing for `dramble <command> [options]`, on node:util parseArgs.
import { parseArgs } from 'node:util';

export const COMMANDS = ['up', 'down', 'reset', 'status', 'kill', 'restart', 'switchover', 'rebuild', 'load', 'help'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface Parsed {
  command: CommandName;
  positionals: string[];
  dir: string;
  port: number;
  basePort?: number;
  replicas: number;
  apps: number;
  mysql: string[];
  redis?: string;
  json: boolean;
  rate: number;
  duration: number;
  concurrency: number;
  path: string;
  yes: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function int(name: string, v: string | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number of at least ${min}, got "${v}"`);
  return n;
}

/** Durations as "30", "30s", "2m" or "500ms"; returns milliseconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new UsageError(`--duration must look like 30s, 2m or 500ms, got "${v}"`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

export function parse(argv: string[]): Parsed {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      dir: { type: 'string' },
      port: { type: 'string' },
      'base-port': { type: 'string' },
      replicas: { type: 'string' },
      apps: { type: 'string' },
      mysql: { type: 'string', multiple: true },
      redis: { type: 'string' },
      json: { type: 'boolean' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      concurrency: { type: 'string' },
      path: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [first, ...rest] = positionals;
  const command = values.help ? 'help' : (first ?? 'help');
  if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`unknown command "${command}"; try: dramble help`);
  if (values.mysql && !values.redis) throw new UsageError('--mysql needs --redis too (the services share Redis for sessions and the topology)');
  if (values.redis && !values.mysql) throw new UsageError('--redis needs --mysql too');
  const parsed: Parsed = {
    command: command as CommandName,
    positionals: values.help && first ? [first, ...rest] : rest,
    dir: values.dir ?? '.dramble',
    port: int('port', values.port, 8080, 0),
    replicas: int('replicas', values.replicas, 1, 0),
    apps: int('apps', values.apps, 2, 1),
    mysql: values.mysql ?? [],
    json: values.json ?? false,
    rate: int('rate', values.rate, 50, 1),
    duration: parseDuration(values.duration ?? '10s'),
    concurrency: int('concurrency', values.concurrency, 16, 1),
    path: values.path ?? '/',
    yes: values.yes ?? false,
  };
  if (values['base-port'] !== undefined) parsed.basePort = int('base-port', values['base-port'], 0, 0);
  if (values.redis !== undefined) parsed.redis = values.redis;
  return parsed;
}

export const USAGE = `dramble — the whole Dramble cluster on one machine

usage: dramble <command> [options]

commands:
  up                      start MariaDB primary + replicas, Redis, db-manager, apps, balancer, dashboard
  down                    stop every process of the cluster (data stays)
  reset                   stop and delete the cluster's data dir
  status [--json]         processes and health, MySQL topology with lag, balancer backends
  kill <name|primary|app-N>   SIGKILL one process (a Pi losing power)
  restart <name>          start a process again (same ports and data)
  switchover [target]     planned primary change through the db-manager
  rebuild <name>          re-seed a MySQL instance from the primary (its errant transactions are exported first)
  load [--rate R --duration D --concurrency C --path P]   traffic through the balancer, live req/s, errors, p99

options for up:
  --dir DIR               data and state (default .dramble)
  --port N                balancer port (default 8080; 0 = any free port)
  --base-port N           other ports from N upwards (default: fixed defaults, free ports when taken; 0 = all free)
  --replicas N            MySQL replicas (default 1)
  --apps N                app instances (default 2)
  --mysql URL --redis URL use servers that already run (repeat --mysql per instance, first = primary)
`;
