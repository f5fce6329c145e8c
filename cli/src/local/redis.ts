// A redis-server from the machine's own binary, persisting to an append-only file under the
// cluster dir (sessions and the topology survive `dramble down` / `dramble up`). Its users come from
// an ACL file (mode 0600, rewritten at every start from credentials.json; see redis-acl.ts): the
// passwords never appear on its command line, and the default user is off.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { redisAclFile, type RedisAclPasswords } from './redis-acl.js';

export const REDIS_PACKAGE = 'redis-server';

export function findRedis(): string | undefined {
  return ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server', '/opt/homebrew/bin/redis-server'].find((p) => existsSync(p));
}

export function redisArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no', '--loglevel', 'warning', '--protected-mode', 'yes', '--aclfile', join(dir, 'users.acl')];
}

/** Writes `<dir>/users.acl` (0600) for redis-server --aclfile. */
export function writeRedisAcl(dir: string, passwords: RedisAclPasswords): string {
  const file = join(dir, 'users.acl');
  writeFileSync(file, redisAclFile(passwords), { mode: 0o600 });
  chmodSync(file, 0o600); // the mode above applies only when the file is created
  return file;
}

/** True when a Redis answers PING on host:port (NOAUTH counts: it is up, and asks who we are). */
export function redisAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.setTimeout(1000);
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH'));
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}
