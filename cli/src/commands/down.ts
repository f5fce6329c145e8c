// `dramble down`: stops the cluster. Asks the running `dramble up` to stop (it knows the order),
// then makes sure every process in cluster.json is gone, stopping stragglers itself.
import { resolve } from 'node:path';
import { isAlive, ownsPid, signal, stopPid, waitForExit } from '../local/process.js';
import type { Say } from '../output.js';
import { readCluster, writeCluster } from '../state.js';

export async function down(dir: string, out: Say, wipingNext = false): Promise<number> {
  const abs = resolve(dir);
  const cluster = readCluster(abs);
  if (!cluster) {
    out(`nothing to stop: no cluster.json in ${abs}`);
    return 0;
  }
  const sup = cluster.processes.find((p) => p.role === 'supervisor');
  if (sup && sup.pid !== process.pid && ownsPid(sup.pid, sup.marker, sup.startTime)) {
    out(`asking dramble up (pid ${sup.pid}) to stop the cluster …`);
    signal(sup.pid, 'SIGTERM');
    if (!(await waitForExit(sup.pid, 120_000))) {
      out('  it did not finish within 120 s; stopping the processes directly');
      signal(sup.pid, 'SIGKILL');
    }
  }
  // Whatever is left (dramble up was killed, or did not finish): reverse start order.
  const fresh = readCluster(abs) ?? cluster;
  for (const p of [...fresh.processes].reverse()) {
    if (p.role === 'supervisor' || !isAlive(p.pid) || !ownsPid(p.pid, p.marker, p.startTime)) continue;
    const how = await stopPid(p.pid, p.role === 'mysql' ? 30_000 : 15_000);
    out(`  stopped ${p.name} (pid ${p.pid}, ${how})`);
  }
  const left = fresh.processes.filter((p) => p.pid !== process.pid && isAlive(p.pid) && ownsPid(p.pid, p.marker, p.startTime));
  fresh.state = 'stopped';
  writeCluster(abs, fresh);
  if (left.length > 0) {
    out(`still running: ${left.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
    return 1;
  }
  out(wipingNext ? 'cluster stopped' : `cluster stopped; data kept in ${abs} (dramble reset wipes it)`);
  return 0;
}
