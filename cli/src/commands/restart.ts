// `dramble restart <name>`: start a process again with the same ports and data, through the
// running `dramble up` so it keeps supervising it (and stops it on Ctrl-C).
import { ApiError, postJson } from '../api.js';
import { ownsPid } from '../local/process.js';
import type { Say } from '../output.js';
import { byName, loadCluster } from './common.js';

export async function restart(dir: string, name: string | undefined, out: Say): Promise<number> {
  if (!name) {
    out('usage: dramble restart <name>');
    return 2;
  }
  const { cluster, credentials } = loadCluster(dir);
  byName(cluster, name);
  const sup = cluster.processes.find((p) => p.role === 'supervisor');
  if (!cluster.controlUrl || !sup || !ownsPid(sup.pid, sup.marker, sup.startTime)) {
    out('dramble up is not running for this dir; start the cluster with: dramble up');
    return 1;
  }
  const t0 = Date.now();
  out(`restarting ${name} …`);
  try {
    const r = await postJson<{ pid: number }>(`${cluster.controlUrl}/restart`, { name }, credentials.controlToken, 180_000);
    out(`${name} is back (pid ${r.pid}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return 0;
  } catch (err) {
    out(`restart failed: ${err instanceof ApiError ? err.body : (err as Error).message}`);
    return 1;
  }
}
