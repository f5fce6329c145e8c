// How `dramble up` runs the three services: from source through tsx when the checkout has it
// (so `npm start` needs no build), else the compiled dist/. Flags are checked against the
// service's own settings table, the single source of truth for their names. Secret settings
// (passwords, tokens, URLs with credentials) go to the child through its environment instead of its
// command line: /proc/<pid>/cmdline is readable by every local user (and `ps` shows it), while
// /proc/<pid>/environ is readable only by the process's owner.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type ServiceName = 'db-manager' | 'app' | 'balancer';

/** The checkout root: this file is cli/src/services.ts (or cli/dist/services.js). */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
}

export interface ServiceCommand {
  command: string;
  args: string[];
  cwd: string;
  mode: 'src' | 'dist';
}

export class ServiceMissingError extends Error {
  constructor(readonly service: ServiceName) {
    super(`services/${service} has neither src/main.ts nor dist/main.js; run \`npm install\` (and \`npm run build\` for dist)`);
    this.name = 'ServiceMissingError';
  }
}

/** Source through tsx unless a build is newer than the source entry point (or tsx is absent). */
export function serviceCommand(service: ServiceName, root = repoRoot()): ServiceCommand {
  const src = join(root, 'services', service, 'src', 'main.ts');
  const dist = join(root, 'services', service, 'dist', 'main.js');
  const hasTsx = existsSync(join(root, 'node_modules', 'tsx'));
  const useSrc = existsSync(src) && hasTsx && !(existsSync(dist) && statSync(dist).mtimeMs > statSync(src).mtimeMs);
  if (useSrc) return { command: process.execPath, args: ['--conditions=dramble-src', '--import', 'tsx', src], cwd: root, mode: 'src' };
  if (existsSync(dist)) return { command: process.execPath, args: [dist], cwd: root, mode: 'dist' };
  throw new ServiceMissingError(service);
}

/** The part of a lib `Setting` we need: its flag, whether it repeats, its env var and whether it is a secret. */
export interface FlagInfo {
  flag: string;
  list?: boolean;
  env?: string;
  secret?: boolean;
}

export class SecretFlagError extends Error {
  constructor(readonly flag: string) {
    super(`--${flag} is a secret but its setting names no environment variable; refusing to put it on a command line`);
    this.name = 'SecretFlagError';
  }
}

export type Flags = Array<[flag: string, value: string]>;

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

export interface AdaptedFlags {
  /** Command-line arguments: only settings that are not secret. */
  args: string[];
  /** Environment for the child: every secret setting, under its own variable (lists joined by commas). */
  env: Record<string, string>;
  dropped: string[];
}

/**
 * Turns the flags we mean into what the service accepts: kept when the flag exists, renamed when a
 * setting of the same key has another flag, dropped (and reported) otherwise; a secret setting is
 * moved to its environment variable. Pure.
 */
export function adaptFlags(settings: Record<string, FlagInfo>, intended: Flags): AdaptedFlags {
  const byFlag = new Map(Object.values(settings).map((s) => [s.flag, s]));
  const args: string[] = [];
  const env: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [flag, value] of intended) {
    const s = byFlag.get(flag) ?? settings[camel(flag)];
    if (!s) {
      dropped.push(flag);
      continue;
    }
    if (s.secret) {
      if (!s.env) throw new SecretFlagError(s.flag);
      // A list setting's env var is split on commas; the URLs we pass percent-encode any comma.
      env[s.env] = s.list && env[s.env] !== undefined ? `${env[s.env]},${value}` : value;
      continue;
    }
    args.push(`--${s.flag}`, value);
  }
  return { args, env, dropped };
}

/** Loads `settings` from the service's config module (source under tsx, else dist); undefined if neither loads. */
export async function loadServiceSettings(service: ServiceName, root = repoRoot()): Promise<Record<string, FlagInfo> | undefined> {
  for (const file of [join(root, 'services', service, 'src', 'config.ts'), join(root, 'services', service, 'dist', 'config.js')]) {
    if (!existsSync(file)) continue;
    try {
      const mod = (await import(pathToFileURL(file).href)) as { settings?: Record<string, FlagInfo> };
      if (mod.settings) return mod.settings;
    } catch {
      // .ts without tsx in this process, or a half-written file: try the next one.
    }
  }
  return undefined;
}
