// The app behind the real balancer behind an Ingress, as k8s/components/ingress sets them up: the
// test plays Traefik (it sends X-Forwarded-For/-Proto/-Host from 127.0.0.1, a proxy the balancer
// trusts), the balancer forwards to the app, and the app counts two hops. The client address the
// login limiter sees is the one the Ingress wrote, whatever the client put in X-Forwarded-For, and
// the https public URL gives Secure cookies and HSTS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createLogger, loadConfig } from '@dramble/lib';
import { loadBalancerConfig, startBalancer, type Balancer } from '@dramble/balancer';
import { settings, type AppHandle } from '@dramble/app';
import { builds, resolveEnv, serviceOfImage, workloads } from '../packaging/support.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, csrfFrom, startStack, startTestApp, type Stack } from './helpers.js';

const SITE = 'dramble.example.org';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request as Traefik forwards it: the client's address appended to what the client sent. */
function viaIngress(port: number, method: string, path: string, client: string, opts: { clientXff?: string; cookie?: string; form?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {
    Host: SITE,
    'X-Forwarded-For': opts.clientXff ? `${opts.clientXff}, ${client}` : client,
    'X-Forwarded-Proto': 'https',
    'X-Forwarded-Host': SITE,
  };
  if (opts.cookie) headers['Cookie'] = opts.cookie;
  if (opts.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers['Content-Length'] = String(Buffer.byteLength(opts.form));
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false, setHost: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.form);
  });
}

const cookieOf = (r: Reply, name: string): string | undefined => ([] as string[]).concat(r.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${name}=`));

async function login(port: number, client: string, password: string, clientXff?: string): Promise<Reply> {
  const page = await viaIngress(port, 'GET', '/login', client, clientXff ? { clientXff } : {});
  assert.equal(page.status, 200);
  const csrf = cookieOf(page, 'dramble_csrf')!;
  const form = new URLSearchParams({ _csrf: csrfFrom(page.body), email: ADMIN_EMAIL, password }).toString();
  return viaIngress(port, 'POST', '/login', client, { form, cookie: csrf.split(';')[0]!, ...(clientXff ? { clientXff } : {}) });
}

describe('the manifests of components/ingress', () => {
  it('make the balancer trust the Ingress, and give the app an https public URL and two hops', () => {
    const objs = builds().get('pi+ingress')!;
    const ingress = objs.find((o) => o.kind === 'Ingress') as { spec: { rules: Array<{ host: string }> } } | undefined;
    const env: Record<string, Record<string, string>> = {};
    for (const w of workloads(objs)) for (const c of w.pod.containers) if (serviceOfImage(c.image)) env[serviceOfImage(c.image)!] = resolveEnv(c, objs).values;
    const app = loadConfig(settings, { argv: [], env: env['app']! });
    assert.equal(app.publicUrl, `https://${ingress!.spec.rules[0]!.host}`);
    assert.equal(app.trustProxy, 2);
    const balancer = loadBalancerConfig({ argv: [], env: env['balancer']! });
    assert.ok(balancer.trustedProxies.length > 0, 'the balancer keeps X-Forwarded-Proto from the Ingress');
  });
});

describe('the app behind the balancer behind an Ingress', () => {
  let stack: Stack;
  let app: AppHandle;
  let balancer: Balancer;
  let port: number;

  before(async () => {
    stack = await startStack();
    app = await startTestApp(stack, 'ingress', ['--public-url', `https://${SITE}`, '--trust-proxy', '2', '--login-free-failures', '3', '--login-first-delay-seconds', '60']);
    const cfg = loadBalancerConfig({
      env: {},
      argv: ['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--health-interval-ms', '0', '--backend', `http://127.0.0.1:${app.publicAddress.port}`, '--trusted-proxies', '127.0.0.0/8', '--server-name', SITE],
    });
    balancer = await startBalancer(cfg, { logger: createLogger({ name: 'balancer', level: 'silent' }) });
    port = balancer.address.port;
  });
  after(async () => {
    await balancer?.close(2000);
    await app?.close();
    await stack?.destroy();
  });

  it('sends HSTS and Secure cookies for the https public URL', async () => {
    const home = await viaIngress(port, 'GET', '/', '198.51.100.1');
    assert.equal(home.status, 200);
    assert.match(String(home.headers['strict-transport-security']), /max-age=\d+/);
    const ok = await login(port, '198.51.100.1', ADMIN_PASSWORD);
    assert.equal(ok.status, 303);
    assert.match(cookieOf(ok, 'dramble_session')!, /;\s*Secure/);
  });

  it("counts the address the Ingress saw: a stranger's guesses neither lock out the editor nor reset by spoofing", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await login(port, '203.0.113.5', `guess ${i}`)).status, 401);
    assert.equal((await login(port, '203.0.113.5', ADMIN_PASSWORD)).status, 429, 'the stranger waits');
    for (const spoof of ['203.0.113.6', '10.0.0.1', '127.0.0.1']) {
      assert.equal((await login(port, '203.0.113.5', ADMIN_PASSWORD, spoof)).status, 429, `spoofed X-Forwarded-For: ${spoof}`);
    }
    assert.equal((await login(port, '203.0.113.6', ADMIN_PASSWORD)).status, 303, 'the editor, from her own address, logs in');
  });
});
