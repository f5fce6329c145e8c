// A real redis-server for tests: free port, temporary dir, nothing persisted. With `acl`, its users
// are Dramble's ACL users (cli/src/local/redis-acl.ts) from a 0600 file and the default user is off.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedis, redisAnswers, writeRedisAcl } from '../../cli/src/local/redis.js';
import { REDIS_APP_USER, REDIS_MANAGER_USER, redisUserUrl, type RedisAclPasswords } from '../../cli/src/local/redis-acl.js';
import { freePort } from './ports.js';
import { spawnTracked, type Spawned } from './processes.js';

export const REDIS_SERVER = findRedis() ?? 'redis-server';

export interface RedisInstance {
  host: string;
  port: number;
  /** Without `acl`: the default user's URL; with it, a URL without credentials (refused). */
  url: string;
  /** With `acl`: the app's and the db-manager's URLs. */
  users?: { app: string; manager: string };
  pid: number;
  readonly running: boolean;
  kill(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startRedis(options: { acl?: RedisAclPasswords } = {}): Promise<RedisInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'dramble-redis-'));
  const port = await freePort();
  const aclArgs = options.acl ? ['--aclfile', writeRedisAcl(dir, options.acl)] : [];
  let proc: Spawned | undefined;
  const start = async (): Promise<void> => {
    proc = spawnTracked(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning', ...aclArgs]);
    await waitForPing(port, proc);
  };
  await start();
  const inst: RedisInstance = {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    ...(options.acl
      ? { users: { app: redisUserUrl('127.0.0.1', port, REDIS_APP_USER, options.acl.app), manager: redisUserUrl('127.0.0.1', port, REDIS_MANAGER_USER, options.acl.manager) } }
      : {}),
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
