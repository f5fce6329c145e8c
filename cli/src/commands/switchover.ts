// `dramble switchover [target]`: a planned primary change through the db-manager.
import { fetchTopology, instanceOnPort, postJson, ApiError } from '../api.js';
import type { Say } from '../output.js';
import { loadCluster } from './common.js';

export async function switchover(dir: string, target: string | undefined, out: Say): Promise<number> {
  const { cluster, credentials } = loadCluster(dir);
  const dbm = cluster.processes.find((p) => p.role === 'db-manager');
  if (!dbm?.adminUrl) throw new Error('no db-manager in this cluster');
  let id: string | undefined;
  if (target) {
    const proc = cluster.processes.find((p) => p.name === target && p.role === 'mysql');
    const before = await fetchTopology(dbm.adminUrl);
    id = proc ? (instanceOnPort(before, proc.port)?.id ?? `127.0.0.1:${proc.port}`) : target;
  }
  const t0 = Date.now();
  out(`switchover${id ? ` to ${id}` : ''} …`);
  try {
    const res = await postJson<unknown>(`${dbm.adminUrl}/api/switchover`, id ? { target: id } : {}, credentials.dbManagerToken, 120_000);
    const after = await fetchTopology(dbm.adminUrl);
    const name = cluster.processes.find((p) => p.role === 'mysql' && instanceOnPort(after, p.port)?.id === after.primary)?.name;
    out(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s: primary is now ${name ?? after.primary}`);
    if (res && typeof res === 'object' && Object.keys(res).length > 0) out(`  ${JSON.stringify(res)}`);
    return 0;
  } catch (err) {
    out(`switchover refused: ${err instanceof ApiError ? `${err.status} ${err.body}` : (err as Error).message}`);
    return 1;
  }
}
