// Redis ACL users for Dramble, one per job, so no app can overwrite the topology the db-manager
// publishes (an app that could would steer every other app's writes to a server of its choosing).
// The same rules serve `dramble up`, the tests and k8s (test/packaging checks the Secret's copy).
//
//   app              its own key prefixes (below); may only READ dramble:topology and SUBSCRIBE to its
//                    channel: no PUBLISH command at all, and dramble:topology is read-only (%R~)
//   dramble-manager  owns dramble:topology (SET + PUBLISH), its epoch counter and the --election redis
//                    lock, nothing else
//   default          off locally and in tests; in k8s password-protected for operators and probes

export const REDIS_APP_USER = 'app';
export const REDIS_MANAGER_USER = 'dramble-manager';

/** Every key the app touches, by the file that owns it (grep `dramble:` in services/app/src). */
export const APP_KEY_PATTERNS = [
  'dramble:session:*', // auth/sessions.ts: one session
  'dramble:user-sessions:*', // auth/sessions.ts: a user's session ids
  'dramble:last-write:*', // auth/sessions.ts: read-your-writes GTID per user and for the site
  'dramble:login:*', // auth/login-limiter.ts: per-IP and per-e-mail counters
  'dramble:page:*', // cache/page-cache.ts: rendered pages
  'dramble:page-tag:*', // cache/page-cache.ts: tag -> page keys
  'dramble:page-index', // cache/page-cache.ts: every cached page by write time (the entry cap)
  'dramble:instances', // cluster/instances.ts: the set of live instances
  'dramble:instance:*', // cluster/instances.ts: one instance's heartbeat
];

/** The app's commands: what those files call, MULTI/EXEC around them, and what ioredis sends on connect. */
export const APP_COMMANDS = ['get', 'set', 'mget', 'del', 'incr', 'expire', 'ttl', 'sadd', 'srem', 'smembers', 'hget', 'hset', 'hincrby', 'zadd', 'zremrangebyscore', 'zcard', 'zpopmin', 'zrem', 'multi', 'exec', 'discard', 'subscribe', 'unsubscribe', 'ping', 'info', 'select', 'client|setname', 'quit'];

/**
 * The db-manager's publisher (publish/redis-topology.ts: GET, INCR, SET, MULTI/EXEC, PUBLISH), its
 * lock election (ha/redis-lock-election.ts: SET NX PX, GET, and EVAL of scripts whose GET, PEXPIRE and
 * DEL are checked against these same rules) and ioredis' connect commands.
 */
export const MANAGER_KEY_PATTERNS = ['dramble:topology', 'dramble:topology:epoch', 'dramble:db-manager:leader'];
export const MANAGER_COMMANDS = ['get', 'set', 'incr', 'del', 'pexpire', 'eval', 'evalsha', 'multi', 'exec', 'discard', 'publish', 'ping', 'info', 'select', 'client|setname', 'quit'];

export const TOPOLOGY_KEY = 'dramble:topology';

export class RedisPasswordError extends Error {
  constructor(readonly user: string) {
    super(`the Redis password of user ${user} must be non-empty printable ASCII without spaces (an ACL file line is split on spaces)`);
    this.name = 'RedisPasswordError';
  }
}

function pass(user: string, password: string): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new RedisPasswordError(user);
  return `>${password}`;
}

export interface RedisAclPasswords {
  app: string;
  manager: string;
  /** The default user's password (operators, probes); unset = the default user is off. */
  operator?: string;
}

/** The users.acl file (redis-server --aclfile), one user a line. */
export function redisAclFile(p: RedisAclPasswords): string {
  const lines = [
    p.operator === undefined ? 'user default off resetkeys resetchannels -@all' : `user default on ${pass('default', p.operator)} ~* &* +@all`,
    ['user', REDIS_APP_USER, 'on', pass(REDIS_APP_USER, p.app), 'resetkeys', ...APP_KEY_PATTERNS.map((k) => `~${k}`), `%R~${TOPOLOGY_KEY}`, 'resetchannels', `&${TOPOLOGY_KEY}`, '-@all', ...APP_COMMANDS.map((c) => `+${c}`)].join(' '),
    ['user', REDIS_MANAGER_USER, 'on', pass(REDIS_MANAGER_USER, p.manager), 'resetkeys', ...MANAGER_KEY_PATTERNS.map((k) => `~${k}`), 'resetchannels', `&${TOPOLOGY_KEY}`, '-@all', ...MANAGER_COMMANDS.map((c) => `+${c}`)].join(' '),
  ];
  return `${lines.join('\n')}\n`;
}

/** `redis://user:password@host:port` for one ACL user. */
export function redisUserUrl(host: string, port: number, user: string, password: string): string {
  return `redis://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}`;
}
