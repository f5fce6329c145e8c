// `dramble rebuild <name>`: re-seed one MySQL instance from the primary through the db-manager
// (POST /api/rebuild); errant transactions it holds are exported to a file first.
import { fetchTopology, instanceOnPort, postJson, ApiError } from '../api.js';
import type { Say } from '../output.js';
import { UsageError } from '../args.js';
import { loadCluster } from './common.js';

interface RebuildAnswer {
  instance: string;
  primary: string;
  gtid: string;
  errantGtids: string[];
  exportFile: string | null;
  durationMs: number;
}

export async function rebuild(dir: string, target: string | undefined, out: Say): Promise<number> {
  if (!target) throw new UsageError('rebuild needs the name of a MySQL instance (see dramble status)');
  const { cluster, credentials } = loadCluster(dir);
  const dbm = cluster.processes.find((p) => p.role === 'db-manager');
  if (!dbm?.adminUrl) throw new Error('no db-manager in this cluster');
  const proc = cluster.processes.find((p) => p.name === target && p.role === 'mysql');
  const id = proc ? (instanceOnPort(await fetchTopology(dbm.adminUrl), proc.port)?.id ?? `127.0.0.1:${proc.port}`) : target;
  out(`rebuilding ${target}${id !== target ? ` (${id})` : ''} from the primary …`);
  try {
    // A copy of a large database takes a while: wait up to 30 minutes.
    const r = await postJson<RebuildAnswer>(`${dbm.adminUrl}/api/rebuild`, { instance: id }, credentials.dbManagerToken, 30 * 60_000);
    out(`done in ${(r.durationMs / 1000).toFixed(1)} s: ${r.instance} is a replica of ${r.primary} from ${r.gtid || '(empty)'}`);
    if (r.exportFile) out(`  errant transactions ${r.errantGtids.join(', ')} were exported to ${r.exportFile}`);
    return 0;
  } catch (err) {
    out(`rebuild refused: ${err instanceof ApiError ? `${err.status} ${err.body}` : (err as Error).message}`);
    return 1;
  }
}
