// TLS termination from cert/key files: HTTPS with HSTS, the certificate reloaded when the files
// change (new connections get the new one), and the plain-HTTP listener redirecting to HTTPS.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTracked } from '../support/index.js';
import { startBackend, startTestBalancer, request, eventually, type TestBackend, type TestBalancer } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'balancer-tls-'));

async function makeCert(cn: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${cn}.crt`);
  const key = join(dir, `${cn}.key`);
  const p = spawnTracked('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`, '-keyout', key, '-out', cert, '-addext', 'subjectAltName=IP:127.0.0.1']);
  assert.equal(await p.exited, 0, 'openssl failed');
  return { cert, key };
}

function httpsGet(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; cn: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, cn, body }));
    });
    req.on('error', reject);
  });
}

describe('TLS termination', () => {
  let backend: TestBackend;
  let lb: TestBalancer;
  let live: { cert: string; key: string };
  let second: { cert: string; key: string };
  before(async () => {
    const first = await makeCert('one');
    second = await makeCert('two');
    live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    copyFileSync(first.cert, live.cert);
    copyFileSync(first.key, live.key);
    backend = await startBackend('pi1');
    lb = await startTestBalancer(['--backend', backend.url, '--tls-cert', live.cert, '--tls-key', live.key, '--tls-watch-ms', '100', '--hsts', '31536000', '--https-redirect', '--redirect-listen', '127.0.0.1:0']);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  it('serves HTTPS with HSTS and tells the backend the client used https', async () => {
    const res = await httpsGet(lb.port, '/secure');
    assert.equal(res.status, 200);
    assert.equal(res.cn, 'one');
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
    assert.equal((JSON.parse(res.body) as { headers: Record<string, string> }).headers['x-forwarded-proto'], 'https');
  });

  it('picks up a renewed certificate without a restart', async () => {
    copyFileSync(second.key, live.key);
    copyFileSync(second.cert, live.cert);
    await eventually(async () => (await httpsGet(lb.port, '/')).cn === 'two', 10_000, 'new certificate');
  });

  it('redirects plain HTTP to HTTPS on the public port (443 by default), not the listener\'s', async () => {
    const port = lb.balancer.redirectAddress?.port;
    assert.ok(port);
    const res = await request(`http://127.0.0.1:${port}/some/page?q=1`);
    assert.equal(res.status, 308);
    assert.equal(res.headers['location'], 'https://127.0.0.1/some/page?q=1');
  });
});
