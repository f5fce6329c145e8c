// Shared by the db-manager benches: the image's production environment and RSS sampling.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The V8 flags the image passes to node on its command line (`CMD ["node", <flags>, "services/db-manager/dist/main.js"]`):
 * flags such as --lite-mode are refused in NODE_OPTIONS, so they live there. BENCH_NODE_FLAGS replaces them.
 */
export function productionNodeFlags(root: string): string[] {
  if (process.env['BENCH_NODE_FLAGS'] !== undefined) return process.env['BENCH_NODE_FLAGS'].split(' ').filter(Boolean);
  const line = /^CMD (\[.*\])$/m.exec(readFileSync(join(root, 'services/db-manager/Dockerfile'), 'utf8'))?.[1];
  const cmd = line ? (JSON.parse(line) as string[]) : [];
  if (cmd[0] !== 'node' || !cmd.at(-1)?.endsWith('main.js')) throw new Error('services/db-manager/Dockerfile has no CMD ["node", ..., "services/db-manager/dist/main.js"] line');
  return cmd.slice(1, -1);
}

/**
 * The environment the image runs the manager with: the `ENV NODE_OPTIONS=... MALLOC_ARENA_MAX=...` line of
 * services/db-manager/Dockerfile, read here so the bench cannot drift from production.
 * BENCH_NODE_OPTIONS replaces NODE_OPTIONS (e.g. to compare flags).
 */
export function productionEnv(root: string): Record<string, string> {
  const line = /^ENV (NODE_OPTIONS=.*)$/m.exec(readFileSync(join(root, 'services/db-manager/Dockerfile'), 'utf8'))?.[1];
  if (!line) throw new Error('services/db-manager/Dockerfile has no ENV NODE_OPTIONS=... line');
  const env: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  if (process.env['BENCH_NODE_OPTIONS'] !== undefined) env['NODE_OPTIONS'] = process.env['BENCH_NODE_OPTIONS'];
  return env;
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** utime + stime of a process in ms (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Samples a process's RSS every 50 ms; peak() is the highest sample since the last reset(). */
export interface RssSampler {
  peak(): number;
  reset(): void;
  stop(): void;
}

export function sampleRss(pid: number): RssSampler {
  let peak = 0;
  const take = (): void => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch {
      // exited
    }
  };
  take();
  const timer = setInterval(take, 50);
  return {
    peak: () => (take(), peak),
    reset: () => ((peak = 0), take()),
    stop: () => clearInterval(timer),
  };
}
