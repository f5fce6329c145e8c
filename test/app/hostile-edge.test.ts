// The app under hostile clients: crafted Host values cannot poison the feed, sitemap or pages or
// flood the page cache, a stranger cannot lock the editor out, a spoofed X-Forwarded-For does not
// reset the login limiter, and /cluster/events is capped. Real MariaDB and Redis; the requests
// carry X-Forwarded-For as the balancer (one trusted hop) writes it. About 40 s, half of it the
// 10,000-host flood the issue asks for.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { loadConfig } from '@dramble/lib';
import { settings, type AppHandle } from '@dramble/app';
import { ADMIN_EMAIL, ADMIN_PASSWORD, csrfFrom, eventually, startStack, startTestApp, type Stack } from './helpers.js';

const PUBLIC = 'http://127.0.0.1:8080';
const CRAFTED = ['127.0.0.1:8080:1@evil.example', 'evil.example', 'evil.example:8080', 'a b', '[::1', `${'a'.repeat(4000)}.evil.example`, 'user@evil.example'];
const PAGES = ['/feed.xml', '/sitemap.xml', '/', '/posts/the-hardware'];

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with headers exactly as given (supertest and fetch would fix up Host). */
function raw(app: AppHandle, path: string, headers: Record<string, string>, agent?: http.Agent): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: app.publicAddress.port, path, headers, agent: agent ?? false, setHost: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function redisKeys(app: AppHandle, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await app.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

/** Logs in through the form with the given client address, as the balancer would forward it. */
async function loginFrom(app: AppHandle, ip: string, password: string, xff = ip): Promise<{ status: number; cookie?: string; text: string }> {
  const agent = request.agent(app.server);
  const page = await agent.get('/login').set('X-Forwarded-For', xff).expect(200);
  const res = await agent.post('/login').set('X-Forwarded-For', xff).type('form').send({ _csrf: csrfFrom(page.text), email: ADMIN_EMAIL, password });
  const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('dramble_session='));
  return { status: res.status, text: res.text, ...(cookie ? { cookie: cookie.split(';')[0]! } : {}) };
}

describe('the app under hostile clients', () => {
  let stack: Stack;
  let app: AppHandle;

  before(async () => {
    stack = await startStack();
    app = await startTestApp(stack, 'hostile', [
      '--allowed-host', 'www.dramble.test',
      '--page-cache-max-entries', '4',
      '--login-free-failures', '3',
      '--login-first-delay-seconds', '60', // long enough that no test sees the wait end
      '--login-max-delay-seconds', '600',
      '--login-attempts-per-ip-per-minute', '8',
      '--event-stream-max-connections', '3',
      '--event-stream-max-per-ip', '2',
    ]);
    await stack.cluster.sync();
  });
  after(async () => {
    await app?.close();
    await stack?.destroy();
  });

  describe('crafted Host and X-Forwarded-Host values', () => {
    it('are refused (400 invalid, 421 foreign) before any page is rendered or cached', async () => {
      const host = `127.0.0.1:${app.publicAddress.port}`;
      for (const path of PAGES) {
        for (const crafted of CRAFTED) {
          const expected = crafted.startsWith('evil.example') ? 421 : 400;
          const viaHost = await raw(app, path, { Host: crafted });
          assert.equal(viaHost.status, expected, `Host ${crafted.slice(0, 40)} ${path}`);
          assert.equal(viaHost.headers['cache-control'], 'private, no-store');
          assert.doesNotMatch(viaHost.body, /evil/, 'the crafted value is not echoed');
          const viaForwarded = await raw(app, path, { Host: host, 'X-Forwarded-Host': crafted });
          assert.equal(viaForwarded.status, expected, `X-Forwarded-Host ${crafted.slice(0, 40)} ${path}`);
        }
      }
      const keys = await redisKeys(app, 'dramble:page*');
      assert.deepEqual(keys, [], 'no page-cache entry, index or tag set was created');
    });

    it('leave the copy an ordinary visitor gets with links to the public URL only', async () => {
      // Poison attempts first, then the ordinary visitor; then a second visitor gets the cached copy.
      for (const crafted of CRAFTED) await raw(app, '/feed.xml', { Host: crafted });
      for (const path of PAGES) {
        for (const round of ['MISS', 'HIT']) {
          const res = await request(app.server).get(path).expect(200);
          assert.equal(res.headers['x-page-cache'], round, `${path} ${round}`);
          const text = res.text;
          assert.doesNotMatch(text, /evil/, path);
          const absolute = [...text.matchAll(/https?:\/\/[^\s"<&]+/g)].map((m) => m[0]).filter((u) => !u.startsWith('http://www.w3.org/') && !u.startsWith('http://www.sitemaps.org/'));
          for (const u of absolute) assert.equal(new URL(u.replace(/[.,]$/, '')).origin, PUBLIC, `${path}: ${u}`);
          if (path === '/feed.xml') assert.ok(absolute.length >= 4, 'the feed links every post');
        }
      }
      const home = await request(app.server).get('/').expect(200);
      assert.match(home.text, new RegExp(`<link rel="canonical" href="${PUBLIC}/">`));
      for (const key of await redisKeys(app, 'dramble:page:*')) assert.match(key, /^dramble:page:\/[^|]*$/, 'keys are paths, without a host');
    });

    it('serves a declared other host the same pages, still linking the public URL', async () => {
      const res = await raw(app, '/sitemap.xml', { Host: 'WWW.Dramble.Test.:443' });
      assert.equal(res.status, 200);
      assert.match(res.body, new RegExp(`<loc>${PUBLIC}/posts/the-hardware</loc>`));
      assert.doesNotMatch(res.body, /dramble\.test/i);
    });

    it('10,000 random hosts leave sessions and limiter counters in place and the page cache bounded', async () => {
      // Redis as k8s/base/redis.yaml runs it: a memory limit and noeviction.
      const used = Number(/used_memory:(\d+)/.exec(await app.redis.info('memory'))![1]);
      await app.redis.config('SET', 'maxmemory', String(used + 16 * 1024 * 1024));
      await app.redis.config('SET', 'maxmemory-policy', 'noeviction');
      try {
        const editor = await loginFrom(app, '10.9.0.1', ADMIN_PASSWORD);
        assert.equal(editor.status, 303);
        assert.equal((await loginFrom(app, '10.9.0.2', 'not the password')).status, 401);
        const limiterBefore = await redisKeys(app, 'dramble:login:*');
        assert.ok(limiterBefore.some((k) => k.startsWith('dramble:login:fail:')) && limiterBefore.some((k) => k.startsWith('dramble:login:ip:')));

        const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
        const paths = [...PAGES, '/pages/about', '/tags/cluster', '/?page=2', '/posts/how-it-is-built-and-deployed'];
        const statuses = new Map<number, number>();
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < 10_000) {
            const i = next++;
            const host = i % 10 === 0 ? `${randomBytes(4).toString('hex')} bad` : `${randomBytes(6).toString('hex')}.example:${1 + (i % 65535)}`;
            const res = await raw(app, paths[i % paths.length]!, { Host: host }, agent);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }
        };
        await Promise.all(Array.from({ length: 16 }, worker));
        agent.destroy();
        assert.deepEqual(Object.fromEntries(statuses), { 400: 1000, 421: 9000 });

        // Ordinary visitors to more distinct pages than the cap: the oldest entries are dropped.
        for (const p of paths) await request(app.server).get(p);
        const pages = await redisKeys(app, 'dramble:page:*');
        assert.ok(pages.length <= 4, `page cache holds ${pages.length} entries: ${pages.join(' ')}`);
        assert.ok((await app.redis.zcard('dramble:page-index')) <= 4);

        await request(app.server).get('/editor').set('Cookie', editor.cookie!).set('X-Forwarded-For', '10.9.0.1').expect(200);
        const limiterAfter = new Set(await redisKeys(app, 'dramble:login:*'));
        for (const k of limiterBefore) assert.ok(limiterAfter.has(k), `${k} is still there`);
      } finally {
        await app.redis.config('SET', 'maxmemory', '0');
      }
    });
  });

  describe('login limits', () => {
    it("a stranger's failed logins from one address do not keep the editor out from another", async () => {
      for (let i = 0; i < 3; i++) assert.equal((await loginFrom(app, '10.1.0.1', `guess ${i}`)).status, 401, `guess ${i}`);
      const stranger = await loginFrom(app, '10.1.0.1', ADMIN_PASSWORD);
      assert.equal(stranger.status, 429, 'the pair (account, stranger) must wait, even with the right password');
      assert.ok(/try again in \d+ s/.test(stranger.text));
      const editor = await loginFrom(app, '10.1.0.2', ADMIN_PASSWORD);
      assert.equal(editor.status, 303, 'the editor, from elsewhere, logs in');
      assert.ok(editor.cookie);
    });

    it('a client writing its own X-Forwarded-For does not reset its count', async () => {
      // The balancer appends the peer it saw (10.2.0.1); what the client wrote stands to its left.
      for (let i = 0; i < 3; i++) assert.equal((await loginFrom(app, '', `guess ${i}`, `198.51.100.${i}, 10.2.0.1`)).status, 401);
      for (const spoof of ['203.0.113.9', '10.2.0.2', 'unknown']) {
        const res = await loginFrom(app, '', ADMIN_PASSWORD, `${spoof}, 10.2.0.1`);
        assert.equal(res.status, 429, `X-Forwarded-For: ${spoof}, 10.2.0.1`);
      }
    });

    it('caps attempts per address across accounts', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const agent = request.agent(app.server);
        const page = await agent.get('/login').set('X-Forwarded-For', '10.3.0.1');
        const res = await agent.post('/login').set('X-Forwarded-For', '10.3.0.1').type('form').send({ _csrf: csrfFrom(page.text), email: `user${i}@dramble.test`, password: 'whatever123' });
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [...Array(8).fill(401), 429, 429]);
      // Another address is not held back by it.
      assert.equal((await loginFrom(app, '10.3.0.2', 'not the password')).status, 401);
    });

    it('takes the trusted-proxy setting as a hop count or addresses, never a bare true', () => {
      const load = (v: string) => loadConfig(settings, { env: {}, argv: ['--mysql-url', 'mysql://u@h/db', '--redis-url', 'redis://h:1', '--trust-proxy', v] }).trustProxy;
      assert.equal(loadConfig(settings, { env: {}, argv: ['--mysql-url', 'mysql://u@h/db', '--redis-url', 'redis://h:1'] }).trustProxy, 1);
      assert.equal(load('true'), 1);
      assert.equal(load('0'), 0);
      assert.equal(load('2'), 2);
      assert.deepEqual(load('10.0.0.0/8, loopback'), ['10.0.0.0/8', 'loopback']);
      assert.throws(() => load('everyone'), /trustProxy/);
      assert.throws(() => load('999'), /trustProxy/);
    });
  });

  describe('/cluster/events', () => {
    const streams: http.ClientRequest[] = [];
    after(() => streams.forEach((s) => s.destroy()));

    /** Opens a stream from `ip`; resolves with its status and (for 200) its first snapshot's data. */
    const open = (ip: string): Promise<{ status: number; retryAfter?: string; snapshot?: { now: number }; req: http.ClientRequest }> =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: app.publicAddress.port, path: '/cluster/events', headers: { 'X-Forwarded-For': ip } }, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return resolve({ status: res.statusCode!, retryAfter: String(res.headers['retry-after']), req });
          }
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
            const m = /event: snapshot\ndata: (.*)\n\n/.exec(text);
            if (m) {
              res.removeAllListeners('data');
              resolve({ status: 200, snapshot: JSON.parse(m[1]!) as { now: number }, req });
            }
          });
        });
        streams.push(req);
        req.on('error', reject);
      });

    it('answers 429 over the per-address cap and 503 over the total cap, while pages still answer', async () => {
      const a1 = await open('10.5.0.1');
      const a2 = await open('10.5.0.1');
      assert.equal(a1.status, 200);
      assert.equal(a2.status, 200);
      // Streams share one producer: the second listener got the frame already built for the first.
      assert.equal(a2.snapshot!.now, a1.snapshot!.now);
      const a3 = await open('10.5.0.1');
      assert.equal(a3.status, 429);
      assert.ok(Number(a3.retryAfter) > 0);
      const b1 = await open('10.5.0.2');
      assert.equal(b1.status, 200);
      const c1 = await open('10.5.0.3');
      assert.equal(c1.status, 503);
      assert.ok(Number(c1.retryAfter) > 0);
      await request(app.server).get('/').expect(200);
      await request(app.server).get('/cluster').expect(200);

      a1.req.destroy();
      await eventually(async () => (await open('10.5.0.3')).status === 200, 'a stream slot freed by a closed stream');
    });
  });

  describe('an https public URL', () => {
    let app: AppHandle;

    before(async () => {
      app = await startTestApp(stack, 'https', ['--public-url', 'https://dramble.example.org']);
    });
    after(async () => {
      await app?.close();
    });

    it('makes the session cookie Secure and sends HSTS without any X-Forwarded-Proto', async () => {
      const page = await request(app.server).get('/login').set('Host', 'dramble.example.org').expect(200);
      assert.match(String(page.headers['strict-transport-security']), /^max-age=\d{7,}$/);
      // The CSRF cookie is Secure too, so a client on plain http would not send it back: this one does.
      const csrfCookie = ([] as string[]).concat(page.headers['set-cookie'] ?? []).find((c) => c.startsWith('dramble_csrf='));
      assert.ok(csrfCookie && /;\s*Secure/.test(csrfCookie), String(csrfCookie));
      const res = await request(app.server).post('/login').set('Host', 'dramble.example.org').set('Cookie', csrfCookie.split(';')[0]!).type('form').send({ _csrf: csrfFrom(page.text), email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).expect(303);
      const session = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('dramble_session='));
      assert.ok(session && /;\s*Secure/.test(session), String(session));
      const feed = await request(app.server).get('/feed.xml').set('Host', 'dramble.example.org').expect(200);
      assert.match(feed.text, /<link href="https:\/\/dramble\.example\.org\/posts\//);
      assert.ok(feed.headers['strict-transport-security']);
    });

    it('answers 421 for the address the app listens on, which is not a declared host', async () => {
      await request(app.server).get('/').expect(421);
    });
  });
});
