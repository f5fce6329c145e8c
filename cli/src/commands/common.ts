// What the commands that act on a running cluster share: finding it and naming its processes.
import { resolve } from 'node:path';
import { fetchTopology, instanceOnPort } from '../api.js';
import { readCluster, readCredentials, type ClusterFile, type Credentials, type ProcessEntry } from '../state.js';

export class NoClusterError extends Error {
  constructor(dir: string) {
    super(`no cluster in ${dir} (no cluster.json); start one with: dramble up`);
    this.name = 'NoClusterError';
  }
}

export function loadCluster(dir: string): { cluster: ClusterFile; credentials: Credentials } {
  const abs = resolve(dir);
  const cluster = readCluster(abs);
  const credentials = readCredentials(abs);
  if (!cluster || !credentials) throw new NoClusterError(abs);
  return { cluster, credentials };
}

export function byName(cluster: ClusterFile, name: string): ProcessEntry {
  const p = cluster.processes.find((x) => x.name === name);
  if (!p) throw new Error(`no process named "${name}"; known: ${cluster.processes.map((x) => x.name).join(', ')}`);
  return p;
}

/** Resolves "primary" / "replica" through the db-manager's topology, anything else by name. */
export async function resolveTarget(cluster: ClusterFile, target: string): Promise<ProcessEntry> {
  if (target !== 'primary' && target !== 'replica') return byName(cluster, target);
  const dbm = cluster.processes.find((p) => p.role === 'db-manager');
  if (!dbm?.adminUrl) throw new Error('no db-manager in this cluster to ask which server is the primary');
  const topo = await fetchTopology(dbm.adminUrl);
  const mysqls = cluster.processes.filter((p) => p.role === 'mysql');
  const match = mysqls.find((m) => {
    const i = instanceOnPort(topo, m.port);
    if (!i) return false;
    return target === 'primary' ? i.id === topo.primary : i.id !== topo.primary;
  });
  if (!match) throw new Error(`the db-manager reports no ${target} among ${mysqls.map((m) => m.name).join(', ')}`);
  return match;
}
