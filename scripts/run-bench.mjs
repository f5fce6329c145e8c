#!/usr/bin/env node
// Runs the benchmarks one after another (never in parallel: they measure this machine).
// Usage: npm run bench [-- balancer|app|db-manager ...]. Each bench prints its figures and
// writes them to bench/<area>/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const benchDir = join(root, 'bench');
const areas = readdirSync(benchDir).filter((d) => statSync(join(benchDir, d)).isDirectory() && (only.length === 0 || only.includes(d)));
let failed = 0;
for (const area of areas.sort()) {
  for (const file of readdirSync(join(benchDir, area)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.includes('.lib.') && !f.startsWith('_')).sort()) {
    const path = join(benchDir, area, file);
    if (!existsSync(path)) continue;
    console.log(`\n=== bench/${area}/${file} ===`);
    const r = spawnSync(process.execPath, ['--conditions=dramble-src', '--import', 'tsx', path], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) failed++;
  }
}
process.exit(failed ? 1 : 0);
