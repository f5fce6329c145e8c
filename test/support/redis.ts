// A real redis-server for tests: free port, temporary dir, nothing persisted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedis, redisAnswers } from '../../cli/src/local/redis.js';
import { freePort } from './ports.js';
import { spawnTracked, type Spawned } from './processes.js';

export const REDIS_SERVER = findRedis() ?? 'redis-server';

export interface RedisInstance {
  host: string;
  port: number;
  url: string;
  pid: number;
  readonly running: boolean;
  kill(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startRedis(): Promise<RedisInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'dramble-redis-'));
  const port = await freePort();
  let proc: Spawned | undefined;
  const start = async (): Promise<void> => {
    proc = spawnTracked(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning']);
    await waitForPing(port, proc);
  };
  await start();
  const inst: RedisInstance = {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return proc?.child.pid ?? 0;
    },
    get running() {
      return proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;
    },
    async kill() {
      if (!proc || !inst.running) return;
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    async restart() {
      await inst.kill();
      await start();
    },
    async destroy() {
      await inst.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return inst;
}

async function waitForPing(port: number, proc: Spawned): Promise<void> {
  let exited = false;
  void proc.exited.then(() => (exited = true));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`redis-server exited during start on port ${port}`);
    if (await redisAnswers(port)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer PING within 20 s`);
}
