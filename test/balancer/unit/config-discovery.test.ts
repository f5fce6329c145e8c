// The settings table (flags, BALANCER_* env, validation naming the setting) and the static and
// DNS discovery adapters (DNS with an injected resolver: no network).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadBalancerConfig, settings, parseBackendUrl, createStaticDiscovery, createDnsDiscovery, type BackendTarget } from '@dramble/balancer';
import { createLogger } from '@dramble/lib';

describe('balancer settings', () => {
  it('has the documented defaults', () => {
    const c = loadBalancerConfig({ argv: [], env: {} });
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(c.admin, { host: '127.0.0.1', port: 9080 });
    assert.equal(c.strategy, 'p2c-ewma');
    assert.equal(c.discovery, 'static');
    assert.equal(c.workers, 1);
  });

  it('reads repeatable --backend flags and BALANCER_* env vars, flags winning', () => {
    const c = loadBalancerConfig({
      argv: ['--backend', 'http://127.0.0.1:3001', '--backend', 'http://127.0.0.1:3002#pi2', '--strategy', 'round-robin'],
      env: { BALANCER_STRATEGY: 'least-outstanding', BALANCER_TRUSTED_PROXIES: '10.0.0.0/8,192.168.0.0/16', BALANCER_RETRIES: '1' },
    });
    assert.deepEqual(c.backends, ['http://127.0.0.1:3001', 'http://127.0.0.1:3002#pi2']);
    assert.equal(c.strategy, 'round-robin');
    assert.deepEqual(c.trustedProxies, ['10.0.0.0/8', '192.168.0.0/16']);
    assert.equal(c.retries, 1);
  });

  it('names the setting when a value is invalid', () => {
    assert.throws(() => loadBalancerConfig({ argv: ['--strategy', 'random'], env: {} }), /strategy/);
    assert.throws(() => loadBalancerConfig({ argv: ['--hash-on', 'header:x'], env: {} }), /hashOn/);
    assert.throws(() => loadBalancerConfig({ argv: ['--trusted-proxies', 'example.com'], env: {} }), /trustedProxies/);
    assert.throws(() => loadBalancerConfig({ argv: ['--discovery', 'dns'], env: {} }), /backendHost/);
    assert.throws(() => loadBalancerConfig({ argv: ['--tls-cert', '/x.pem'], env: {} }), /tlsKey/);
    assert.throws(() => loadBalancerConfig({ argv: ['--request-timeout-ms', '1000'], env: {} }), /headersTimeoutMs/);
  });

  it('uses the BALANCER_ prefix and a flag for every setting', () => {
    for (const [key, s] of Object.entries(settings)) {
      assert.match(s.env, /^BALANCER_[A-Z0-9_]+$/, key);
      assert.match(s.flag, /^[a-z0-9-]+$/, key);
      assert.ok(s.doc.length > 10, key);
    }
  });
});

describe('static discovery', () => {
  it('names backends after the #fragment or host:port', () => {
    assert.deepEqual(parseBackendUrl('http://10.0.0.5:3000#pi2'), { id: '10.0.0.5:3000', url: 'http://10.0.0.5:3000', name: 'pi2', draining: false });
    assert.equal(parseBackendUrl('http://10.0.0.6:3000/').name, '10.0.0.6:3000');
    assert.throws(() => parseBackendUrl('https://10.0.0.5'), /only http/);
  });

  it('announces the list at start and again when it is replaced (SIGHUP)', async () => {
    const d = createStaticDiscovery(['http://a:1']);
    const seen: BackendTarget[][] = [];
    await d.start((t) => seen.push(t));
    d.set(['http://a:1', 'http://b:2']);
    assert.deepEqual(seen.map((l) => l.map((t) => t.id)), [['a:1'], ['a:1', 'b:2']]);
  });
});

describe('dns discovery', () => {
  it('turns A records into backends, re-resolves, and keeps the last list when a lookup fails', async () => {
    const answers: Array<string[] | Error> = [['10.0.0.2', '10.0.0.1'], new Error('SERVFAIL'), ['10.0.0.3']];
    let calls = 0;
    const seen: string[][] = [];
    const d = createDnsDiscovery({
      host: 'app.default.svc',
      port: 3000,
      intervalMs: 100,
      logger: createLogger({ name: 'test', level: 'silent' }),
      resolve: () => {
        const a = answers[Math.min(calls++, answers.length - 1)]!;
        return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
      },
    });
    await d.start((t) => seen.push(t.map((x) => x.url)));
    const deadline = Date.now() + 10_000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await d.stop();
    assert.deepEqual(seen[0], ['http://10.0.0.1:3000', 'http://10.0.0.2:3000']);
    assert.deepEqual(seen[1], ['http://10.0.0.3:3000']);
  });
});
