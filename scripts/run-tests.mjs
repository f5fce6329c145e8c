#!/usr/bin/env node
// Runs every test in the repo with Node's own test runner (TypeScript through tsx), then makes
// sure no server a test started is still running. Usage: npm test [-- path-or-substring ...]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = findTests(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const pidDir = mkdtempSync(join(tmpdir(), 'dramble-test-pids-'));
const child = spawn(
  process.execPath,
  [
    '--conditions=dramble-src',
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, DRAMBLE_TEST_PID_DIR: pidDir, NODE_ENV: 'test' } },
);
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));

// Anything still registered outlived its test process: kill it and fail the run.
const leaked = [];
for (const name of readdirSync(pidDir)) {
  const pid = Number(name);
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z /.test(stat)) continue;
    leaked.push(`${pid} ${readFileSync(join(pidDir, name), 'utf8').trim()}`);
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}
rmSync(pidDir, { recursive: true, force: true });
if (leaked.length > 0) {
  console.error(`test servers left running after the suite (now killed):\n  ${leaked.join('\n  ')}`);
  process.exit(1);
}
process.exit(code);
