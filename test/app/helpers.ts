// Shared set-up for the app tests: a real MariaDB primary + replica and a real Redis per test file,
// app instances started in-process from the same settings table main.ts reads.
import { Writable } from 'node:stream';
import { createLogger, loadConfig, type Logger } from '@dramble/lib';
import request from 'supertest';
import { settings, startApp, type AppHandle, type StartOptions } from '@dramble/app';
import { startRedis, startReplicationCluster, type RedisInstance, type ReplicationCluster } from '../support/index.js';

export const ADMIN_EMAIL = 'admin@dramble.test';
export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface Stack {
  cluster: ReplicationCluster;
  redis: RedisInstance;
  destroy(): Promise<void>;
}

export async function startStack(replicas = 1): Promise<Stack> {
  const [cluster, redis] = await Promise.all([startReplicationCluster({ replicas }), startRedis()]);
  return {
    cluster,
    redis,
    async destroy() {
      await Promise.all([cluster.destroy(), redis.destroy()]);
    },
  };
}

export function mysqlUrl(port: number, db: string): string {
  return `mysql://root@127.0.0.1:${port}/${db}`;
}

/** A logger that keeps lines in memory (printed only when DRAMBLE_TEST_LOGS is set). */
export function testLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      if (process.env['DRAMBLE_TEST_LOGS']) process.stderr.write(chunk);
      cb();
    },
  });
  const logger = createLogger({ name: 'app', level: 'info', destination });
  return Object.assign(logger, { lines });
}

export async function startTestApp(stack: Stack, db: string, argv: string[] = [], options: StartOptions = {}): Promise<AppHandle> {
  const config = loadConfig(settings, {
    env: {},
    argv: [
      '--listen', '127.0.0.1:0',
      '--admin', '127.0.0.1:0',
      '--mysql-url', mysqlUrl(stack.cluster.primary.port, db),
      ...stack.cluster.replicas.flatMap((r) => ['--mysql-replica-url', mysqlUrl(r.port, db)]),
      '--redis-url', stack.redis.url,
      '--admin-email', ADMIN_EMAIL,
      '--admin-password', ADMIN_PASSWORD,
      '--read-your-writes-timeout-ms', '300',
      '--shutdown-deadline-ms', '2000',
      ...argv,
    ],
  });
  return startApp(config, { logger: testLogger(), probeIntervalMs: 300, heartbeatIntervalMs: 1000, ...options });
}

/** Pulls the first hidden _csrf value out of a form. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token in the page');
  return m[1]!;
}

/** Logs in with a supertest agent (which keeps cookies); returns the session's CSRF token. */
export async function login(agent: ReturnType<typeof request.agent>, email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<string> {
  const page = await agent.get('/login').expect(200);
  const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email, password });
  if (res.status !== 303) throw new Error(`login failed with ${res.status}: ${res.text.slice(0, 300)}`);
  const editor = await agent.get('/editor').expect(200);
  return csrfFrom(editor.text);
}

/** Creates an API token for the admin through the editor form, as a person would. */
export async function apiToken(app: AppHandle, email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<string> {
  const agent = request.agent(app.server);
  const csrf = await login(agent, email, password);
  const res = await agent.post('/editor/tokens').type('form').send({ _csrf: csrf, name: 'tests' }).expect(201);
  const m = /id="new-token">([^<]+)</.exec(res.text);
  if (!m) throw new Error('no token on the page');
  return m[1]!;
}

/** Polls until fn returns truthy or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function metricValue(app: AppHandle, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${app.adminUrl}/metrics`);
  const text = await res.text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) sum += Number(line.split(' ').pop());
  }
  return sum;
}
