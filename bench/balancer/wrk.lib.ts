// The load generator and the /proc readings the balancer and app benchmarks share. wrk (Debian's
// C load generator) rather than a Node tool: a Node load generator competes with the measured
// process for the machine's two cores and flatters every ratio.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

export const WRK = '/usr/bin/wrk';
const REPORT_LUA = new URL('./_wrk-report.lua', import.meta.url).pathname;
/** Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export interface WrkRun {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors and timeouts. */
  errors: number;
  /** Responses with a status >= 400. */
  non2xx: number;
}

export function requireWrk(): void {
  if (!existsSync(WRK)) throw new Error(`${WRK} not found: install it with apt-get install -y wrk`);
}

/** One wrk run: one thread, `connections` keep-alive connections, `seconds` long, on `url`. */
export function wrk(url: string, seconds: number, connections: number): Promise<WrkRun> {
  const child = spawn(WRK, ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', REPORT_LUA, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || !line) return reject(new Error(`wrk exited with ${code}: ${out}`));
      const j = JSON.parse(line.slice('WRK_JSON '.length)) as Record<'requests' | 'duration_us' | 'connect' | 'read' | 'write' | 'status' | 'timeout' | 'p50_us' | 'p99_us', number>;
      resolve({
        requests: j.requests,
        rps: j.requests / (j.duration_us / 1e6),
        p50Ms: j.p50_us / 1000,
        p99Ms: j.p99_us / 1000,
        errors: j.connect + j.read + j.write + j.timeout,
        non2xx: j.status,
      });
    });
  });
}

/** The fields of /proc/<pid>/stat after the command name (index 0 is field 3, the state). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
}

/** `pid` and all its descendants (nginx's workers, the balancer's cluster workers). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(statFields(Number(d))[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* exited while listing */
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** utime + stime (fields 14 and 15 of /proc/<pid>/stat) summed over `pids`, in microseconds. */
export function cpuMicros(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = statFields(pid);
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* exited: its CPU is lost to the count, which only happens if a worker dies mid-run */
    }
  }
  return (ticks * 1e6) / CLK_TCK;
}

/** The element with the median key (the lower middle one for an even count). */
export function medianBy<T>(xs: T[], key: (x: T) => number): T {
  const sorted = [...xs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
