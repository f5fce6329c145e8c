// Spawning the mini service and reading its JSON event lines.
import { createInterface } from 'node:readline';
import { spawnTracked, type Spawned } from '../support/index.js';

export interface MiniService extends Spawned {
  port: number;
  adminPort: number;
  stderr: () => string;
  waitForEvent(event: string, timeoutMs?: number): Promise<void>;
}

const FIXTURE = new URL('./fixtures/mini-service.ts', import.meta.url).pathname;

export function spawnMini(args: string[], env: Record<string, string> = {}): Spawned & { stdoutLines: string[]; stderrText: () => string } {
  const s = spawnTracked(process.execPath, ['--conditions=dramble-src', '--import', 'tsx', FIXTURE, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const stdoutLines: string[] = [];
  let err = '';
  s.child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  createInterface({ input: s.child.stdout! }).on('line', (l) => stdoutLines.push(l));
  return Object.assign(s, { stdoutLines, stderrText: () => err });
}

export async function startMini(args: string[] = ['--name', 'test']): Promise<MiniService> {
  const s = spawnMini(args);
  const waitForEvent = async (event: string, timeoutMs = 20_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (s.stdoutLines.some((l) => l.includes(`"event":"${event}"`))) return;
      if (s.child.exitCode !== null) throw new Error(`mini service exited: ${s.stderrText()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no ${event} event within ${timeoutMs} ms; stderr: ${s.stderrText()}`);
  };
  await waitForEvent('listening');
  const line = JSON.parse(s.stdoutLines.find((l) => l.includes('"event":"listening"'))!) as { port: number; adminPort: number };
  return Object.assign(s, { port: line.port, adminPort: line.adminPort, stderr: s.stderrText, waitForEvent });
}
