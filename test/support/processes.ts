// Every server a test starts is registered here and killed when the test process exits, however
// it exits. Pids are also written to a registry folder so the test runner (scripts/run-tests.mjs)
// can sweep up after a test process that was itself killed.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PID_REGISTRY = process.env['DRAMBLE_TEST_PID_DIR'] ?? join(tmpdir(), 'dramble-test-pids');

const live = new Set<ChildProcess>();

export interface Spawned {
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | NodeJS.Signals | null>;
}

export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): Spawned {
  const child = spawn(command, args, { stdio: 'ignore', ...options });
  live.add(child);
  if (child.pid) {
    mkdirSync(PID_REGISTRY, { recursive: true });
    writeFileSync(join(PID_REGISTRY, String(child.pid)), `${command}\n`);
  }
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      live.delete(child);
      if (child.pid) rmSync(join(PID_REGISTRY, String(child.pid)), { force: true });
      resolve(code ?? signal);
    };
    child.once('exit', done);
    child.once('error', () => done(null, null));
  });
  return { child, exited };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat); // a zombie has exited already
  } catch {
    return false;
  }
}

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
    if (child.pid) rmSync(join(PID_REGISTRY, String(child.pid)), { force: true });
  }
}

process.once('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killAllNow();
    process.exit(130);
  });
}
