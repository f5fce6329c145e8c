// `dramble kill <name|primary|replica|app-N>`: SIGKILL one process, as when a Pi loses power.
import { ownsPid, signal, waitForExit } from '../local/process.js';
import type { Say } from '../output.js';
import { loadCluster, resolveTarget } from './common.js';

export async function kill(dir: string, target: string | undefined, out: Say): Promise<number> {
  if (!target) {
    out('usage: dramble kill <name|primary|replica|app-N>');
    return 2;
  }
  const { cluster } = loadCluster(dir);
  const p = await resolveTarget(cluster, target);
  if (p.role === 'supervisor') {
    out('that is dramble up itself; use dramble down');
    return 2;
  }
  if (!ownsPid(p.pid, p.marker, p.startTime)) {
    out(`${p.name} (pid ${p.pid}) is not running`);
    return 1;
  }
  signal(p.pid, 'SIGKILL');
  await waitForExit(p.pid, 10_000);
  out(`killed ${p.name} (pid ${p.pid}, SIGKILL)${target !== p.name ? ` — it was the ${target}` : ''}; bring it back with: dramble restart ${p.name}`);
  return 0;
}
