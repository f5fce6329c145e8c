// One validated config object per service, read from defaults < config file < environment < flags.
// Every setting is declared once (schema, flag, env var, doc) so that docs and deployment checks
// can be derived from the same table the service reads.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export interface Setting<T extends z.ZodType = z.ZodType> {
  /** Validates and converts the raw value (strings from env/flags, JSON values from the file). */
  schema: T;
  /** Environment variable, e.g. BALANCER_LISTEN. */
  env: string;
  /** Command-line flag without dashes, e.g. listen. */
  flag: string;
  /** One line for --help and the README. */
  doc: string;
  /** Repeatable flag; the env var is split on commas. */
  list?: boolean;
  /** Shown as *** in --help output and config dumps. */
  secret?: boolean;
  /** Default shown in docs when it is not obvious from the schema. */
  defaultDoc?: string;
}

export type Settings = Record<string, Setting>;
export type ConfigOf<S extends Settings> = { [K in keyof S]: z.output<S[K]['schema']> };

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly setting?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function defineSettings<S extends Settings>(settings: S): S {
  return settings;
}

// --- schema helpers: values from env and flags arrive as strings ---

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export const setting = {
  bool: (def: boolean) =>
    z
      .union([z.boolean(), z.string()])
      .default(def)
      .transform((v, ctx) => {
        if (typeof v === 'boolean') return v;
        const s = v.trim().toLowerCase();
        if (TRUE.has(s)) return true;
        if (FALSE.has(s)) return false;
        ctx.addIssue({ code: 'custom', message: 'must be true or false' });
        return z.NEVER;
      }),
  int: (def: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER) => {
    const base = z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
    return def === undefined ? base : base.default(def);
  },
  number: (def: number, min = 0, max = Number.MAX_VALUE) =>
    z.coerce.number({ error: 'must be a number' }).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`).default(def),
  string: (def?: string) => (def === undefined ? z.string().min(1, 'must not be empty') : z.string().default(def)),
  optionalString: () => z.string().min(1).optional(),
  enumOf: <const T extends readonly [string, ...string[]]>(values: T, def: T[number]) => z.enum(values).default(def as never),
  hostPort: (def?: string) => {
    const base = z.string().transform((v, ctx) => {
      const hp = parseHostPort(v);
      if (!hp) {
        ctx.addIssue({ code: 'custom', message: 'must be host:port (e.g. 127.0.0.1:8080) or a port number' });
        return z.NEVER;
      }
      return hp;
    });
    return def === undefined ? base : base.prefault(def);
  },
  list: <T extends z.ZodType>(item: T, def: z.input<T>[] = []) => z.array(item).default(def as never),
  url: () => z.string().url('must be a URL'),
};

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(v: string): HostPort | undefined {
  const s = v.trim();
  if (/^\d+$/.test(s)) return validPort(Number(s)) ? { host: '127.0.0.1', port: Number(s) } : undefined;
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s);
  if (!m || !m[1] || !validPort(Number(m[2]))) return undefined;
  return { host: m[1], port: Number(m[2]) };
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p <= 65535;
}

// --- loading ---

export interface LoadOptions {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Env var naming the optional JSON config file; `--config <path>` always works too. */
  configFileEnv?: string;
}

export function loadConfig<S extends Settings>(settings: S, options: LoadOptions = {}): ConfigOf<S> {
  const env = options.env ?? process.env;
  const { values: flagValues, configFile: flagFile } = parseFlags(settings, options.argv ?? process.argv.slice(2));
  const filePath = flagFile ?? (options.configFileEnv ? env[options.configFileEnv] : undefined);
  const fileValues = filePath ? readConfigFile(filePath, settings) : {};

  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  let firstSetting: string | undefined;
  for (const [key, s] of Object.entries(settings)) {
    let raw: unknown = fileValues[key];
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== '') raw = s.list ? splitList(fromEnv) : fromEnv;
    if (flagValues[key] !== undefined) raw = flagValues[key];
    const parsed = s.schema.safeParse(raw);
    if (parsed.success) {
      out[key] = parsed.data;
    } else {
      firstSetting ??= key;
      const why = parsed.error.issues
        .map((i) => (raw === undefined && i.code === 'invalid_type' ? 'is required' : i.message))
        .join('; ');
      const shown = raw === undefined ? '' : `, got ${s.secret ? '***' : JSON.stringify(raw)}`;
      problems.push(`setting "${key}" (--${s.flag} or ${s.env}) ${why}${shown}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`, firstSetting);
  return out as ConfigOf<S>;
}

function splitList(v: string): string[] {
  return v
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

function readConfigFile(path: string, settings: Settings): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${path} could not be read as JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  const unknown = Object.keys(data).filter((k) => !(k in settings));
  if (unknown.length > 0) throw new ConfigError(`config file ${path} has unknown setting(s): ${unknown.join(', ')}`, unknown[0]);
  return data as Record<string, unknown>;
}

function parseFlags(settings: Settings, argv: string[]): { values: Record<string, unknown>; configFile?: string } {
  const byFlag = new Map<string, [string, Setting]>();
  for (const [key, s] of Object.entries(settings)) byFlag.set(s.flag, [key, s]);
  const values: Record<string, unknown> = {};
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}" (settings are given as --name value)`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (name === 'config') {
      configFile = value ?? argv[++i];
      if (!configFile) throw new ConfigError('--config needs a file path');
      continue;
    }
    let entry = byFlag.get(name);
    if (!entry && name.startsWith('no-') && value === undefined) {
      entry = byFlag.get(name.slice(3));
      if (entry) value = 'false';
    }
    if (!entry) throw new ConfigError(`unknown flag --${name}`, name);
    const [key, s] = entry;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      } else {
        value = 'true'; // a bare flag is a boolean switch
      }
    }
    if (s.list) values[key] = [...((values[key] as string[] | undefined) ?? []), ...splitList(value)];
    else values[key] = value;
  }
  return configFile === undefined ? { values } : { values, configFile };
}

/** Loads the config or prints the reason and exits with status 2, as a service's main() wants. */
export function loadConfigOrExit<S extends Settings>(service: string, settings: S, options: LoadOptions = {}): ConfigOf<S> {
  const argv = options.argv ?? process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${service} settings (flag, environment variable, default):\n\n${settingsHelp(settings)}\n`);
    process.exit(0);
  }
  try {
    return loadConfig(settings, { ...options, argv });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

export function defaultOf(s: Setting): string {
  if (s.defaultDoc !== undefined) return s.defaultDoc;
  const r = s.schema.safeParse(undefined);
  if (!r.success) return '(required)';
  if (r.data === undefined) return '(unset)';
  if (s.secret) return '(unset)';
  if (typeof r.data === 'object' && r.data !== null && 'host' in r.data && 'port' in r.data) {
    const hp = r.data as HostPort;
    return `${hp.host}:${hp.port}`;
  }
  return Array.isArray(r.data) ? (r.data.length ? r.data.join(',') : '(none)') : String(r.data);
}

export function settingsHelp(settings: Settings): string {
  return Object.values(settings)
    .map((s) => `  --${s.flag}${s.list ? ' (repeatable)' : ''}\n      ${s.env}  default: ${defaultOf(s)}\n      ${s.doc}`)
    .join('\n');
}

/** Markdown table for the README: one row per setting. */
export function settingsMarkdown(settings: Settings): string {
  const rows = Object.entries(settings).map(
    ([key, s]) => `| \`--${s.flag}\` | \`${s.env}\` | \`${key}\` | ${defaultOf(s).replace(/\|/g, '\\|')} | ${s.doc.replace(/\|/g, '\\|')} |`,
  );
  return ['| flag | environment | file key | default | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
