// Keeps the manager's instance list in step with the MySQL pods without a restart: the pods are listed
// again every intervalMs and the list handed to the manager, which applies only real changes (a pod added
// by scaling the StatefulSet, one removed, one rescheduled with a new IP). A re-list rather than a watch:
// membership changes are rare, one small list call per interval is cheap, and it needs no long-lived
// connection or client-side watch state in a process that counts its megabytes.
import type { Logger } from '@dramble/lib';
import type { Target } from '../probe/connection.js';
import type { PodInventory } from './pod-inventory.js';

export const POD_RELIST_MS = 10_000;

export interface PodFollower {
  /** Lists once now (tests; also what each interval does). */
  refresh(): Promise<void>;
  stop(): void;
}

export function followPods(inventory: PodInventory, apply: (instances: Target[]) => void, opts: { logger: Logger; intervalMs?: number }): PodFollower {
  const log = opts.logger.child({ component: 'pod-follower' });
  let running: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (running ??= (async () => {
      try {
        const pods = await inventory.list();
        // An empty list is far more likely an API or selector problem than a cluster without MySQL: keep
        // watching what we have rather than dropping every replica.
        if (pods.length === 0) log.warn('no MySQL pods listed; keeping the current instances');
        else apply(pods.map((p) => ({ id: p.id, host: p.host, port: p.port })));
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'listing MySQL pods failed; trying again next interval');
      } finally {
        running = undefined;
      }
    })());
  const timer = setInterval(() => void refresh(), opts.intervalMs ?? POD_RELIST_MS);
  timer.unref();
  return {
    refresh,
    stop: () => clearInterval(timer),
  };
}
