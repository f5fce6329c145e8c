// `dramble reset`: stop the cluster and delete its data dir (MySQL data, Redis, credentials).
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Say } from '../output.js';
import { down } from './down.js';

export async function reset(dir: string, out: Say): Promise<number> {
  const abs = resolve(dir);
  if (!existsSync(abs)) {
    out(`nothing to reset: ${abs} does not exist`);
    return 0;
  }
  // Only ever delete a dir dramble made: a typo in --dir must not wipe something else.
  if (!['cluster.json', 'credentials.json', 'ports.json'].some((f) => existsSync(join(abs, f)))) {
    out(`${abs} does not look like a dramble data dir (no cluster.json, credentials.json or ports.json); not deleting it`);
    return 1;
  }
  const code = await down(abs, out, true);
  if (code !== 0) return code;
  rmSync(abs, { recursive: true, force: true });
  out(`deleted ${abs}; the next dramble up starts from scratch (new passwords)`);
  return 0;
}
