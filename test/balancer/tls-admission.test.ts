// The TLS listener's admission: a client that connects and never finishes the handshake is cut
// after --tls-handshake-timeout-ms, and the HTTP->HTTPS redirect names the public port and only
// declared hosts (never an open redirect to a foreign Host).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTracked } from '../support/index.js';
import { rawExchange, rejectedCount, request, startBackend, startTestBalancer, statusOf, type TestBackend, type TestBalancer } from './helpers.js';

async function makeCert(): Promise<{ cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'balancer-tls-admission-'));
  const cert = join(dir, 'site.crt');
  const key = join(dir, 'site.key');
  const p = spawnTracked('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=site.example', '-keyout', key, '-out', cert]);
  assert.equal(await p.exited, 0, 'openssl failed');
  return { cert, key };
}

describe('TLS listener admission', () => {
  let backend: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    const { cert, key } = await makeCert();
    backend = await startBackend('pi1');
    lb = await startTestBalancer([
      '--backend', backend.url,
      '--tls-cert', cert, '--tls-key', key,
      '--tls-handshake-timeout-ms', '300',
      '--https-redirect', '--redirect-listen', '127.0.0.1:0',
      '--https-public-port', '8443',
      '--server-name', 'site.example',
    ]);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  it('cuts a connection that never starts the handshake, with a metric', async () => {
    const socket = net.connect(lb.port, '127.0.0.1');
    const started = Date.now();
    await new Promise<void>((resolve) => {
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
    const ms = Date.now() - started;
    assert.ok(ms >= 250 && ms < 3000, `closed after ${ms} ms`);
    assert.ok((await rejectedCount(lb, 'tls-handshake-timeout')) >= 1);
  });

  it('redirects to the public HTTPS port with the normalised declared host', async () => {
    const port = lb.balancer.redirectAddress?.port;
    assert.ok(port);
    const res = await request(`http://127.0.0.1:${port}/feed.xml?x=1`, { headers: { host: 'Site.Example' } });
    assert.equal(res.status, 308);
    assert.equal(res.headers['location'], 'https://site.example:8443/feed.xml?x=1');
  });

  it('refuses to redirect to an undeclared or malformed host', async () => {
    const port = lb.balancer.redirectAddress?.port;
    assert.ok(port);
    const foreign = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n', 3000);
    assert.equal(statusOf(foreign), 421);
    assert.doesNotMatch(foreign, /location:/i);
    assert.equal(statusOf(await rawExchange(port, 'GET / HTTP/1.1\r\nHost: site.example@evil.example\r\n\r\n', 3000)), 400);
    assert.equal(statusOf(await rawExchange(port, 'GET //evil.example/ HTTP/1.1\r\nHost: site.example\r\n\r\n', 3000)), 308, 'a path that looks like an authority stays a path');
  });
});
