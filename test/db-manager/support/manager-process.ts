// A dramble-db-manager run as its own process (from sources, via tsx), so a test can SIGKILL,
// SIGSTOP and SIGCONT it, and wait for a line of its log (a recovery step) as it happens.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TopologyView } from '@dramble/db-manager';
import { freePort, REPLICATION_PASSWORD, REPLICATION_USER, spawnTracked, type Spawned } from '../../support/index.js';
import { TOKEN, waitFor } from './helpers.js';

export interface ManagerProcess {
  name: string;
  url: string;
  spawned: Spawned;
  /** Every log line so far. */
  lines: string[];
  /** Resolves with the first line (from `fromLine` on) that matches. */
  waitForLine(re: RegExp, timeoutMs?: number, fromLine?: number): Promise<string>;
  view(): Promise<TopologyView>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnManager(name: string, instances: string[], extraArgs: string[] = []): Promise<ManagerProcess> {
  const port = await freePort();
  const args = [
    '--conditions=dramble-src', '--import', 'tsx', 'services/db-manager/src/main.ts',
    '--instances', instances.join(','),
    '--replication-user', REPLICATION_USER,
    '--admin', `127.0.0.1:${port}`,
    '--identity', name,
    '--log-level', 'info',
    '--errant-export-dir', join(tmpdir(), 'dramble-test-errant'),
    ...extraArgs,
  ];
  // Secrets through the environment, never argv.
  const spawned = spawnTracked(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DBM_ADMIN_TOKEN: TOKEN, DBM_REPLICATION_PASSWORD: REPLICATION_PASSWORD } });
  const lines: string[] = [];
  const watchers: Array<() => void> = [];
  let partial = '';
  const onData = (d: Buffer): void => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of watchers.splice(0)) w();
  };
  spawned.child.stdout?.on('data', onData);
  spawned.child.stderr?.on('data', onData);
  const url = `http://127.0.0.1:${port}`;
  const p: ManagerProcess = {
    name,
    url,
    spawned,
    lines,
    waitForLine(re, timeoutMs = 30_000, fromLine = 0) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no log line matching ${re} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`)), timeoutMs);
        const check = (): void => {
          const hit = lines.slice(fromLine).find((l) => re.test(l));
          if (hit !== undefined) {
            clearTimeout(timer);
            resolve(hit);
          } else watchers.push(check);
        };
        check();
      });
    },
    async view() {
      const res = await fetch(`${url}/api/topology`);
      if (!res.ok) throw new Error(`${name}: GET /api/topology ${res.status}`);
      return (await res.json()) as TopologyView;
    },
    async kill(signal = 'SIGKILL') {
      if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) return;
      spawned.child.kill(signal);
      await spawned.exited;
    },
  };
  await waitFor(`${name} to answer /healthz`, async () => (await fetch(`${url}/healthz`)).ok || undefined, 30_000, 100);
  return p;
}

/** Fast detection for tests: a dead primary is failed over in about a second. */
export const FAST_ARGS = ['--probe-interval-ms', '200', '--probe-timeout-ms', '300', '--failover-after-probes', '2', '--failover-min-ms', '400', '--failover-cooldown-ms', '0'];
