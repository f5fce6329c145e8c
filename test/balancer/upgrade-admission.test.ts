// Upgrades pass the same admission as requests (rate limit, Host, caps), only allowed protocols
// are tunnelled, a backend's refusal is relayed without hop-by-hop fields, idle tunnels are
// closed, and each upgrade leaves an access-log line.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { eventually, rawExchange, rejectedCount, startTestBalancer, statusOf, type TestBalancer } from './helpers.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A backend accepting WebSocket upgrades on any path but /refuse, which it answers 403 with hop-by-hop fields. */
async function startWsBackend(): Promise<{ server: http.Server; port: number; upgrades: () => number; close(): Promise<void> }> {
  let upgrades = 0;
  const server = http.createServer((_req, res) => res.end('plain'));
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    upgrades++;
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nKeep-Alive: timeout=5\r\nConnection: close, X-Internal\r\nX-Internal: secret\r\nUpgrade: websocket\r\nContent-Length: 7\r\n\r\nno way\n');
      return;
    }
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.on('data', (c: Buffer) => socket.write(c));
    // http.Server sockets allow half-open: close ours when the balancer closes its side.
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    upgrades: () => upgrades,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function upgradeRequest(path = '/chat', opts: { host?: string; protocol?: string } = {}): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${opts.host ?? 'x'}\r\nUpgrade: ${opts.protocol ?? 'websocket'}\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

/** Opens a tunnel from `localAddress`; resolves once the 101 (or another status) arrived. */
function openTunnel(port: number, localAddress = '127.0.0.1'): Promise<{ socket: net.Socket; status: number; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', function onData(c: Buffer) {
      buf += c.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      resolve({ socket, status: statusOf(buf), closed });
    });
    socket.once('close', () => reject(new Error(`closed before a status: ${buf}`)));
    socket.write(upgradeRequest());
  });
}

describe('upgrade admission', () => {
  let ws: Awaited<ReturnType<typeof startWsBackend>>;
  let lb: TestBalancer;
  before(async () => {
    ws = await startWsBackend();
    lb = await startTestBalancer([
      '--backend', `http://127.0.0.1:${ws.port}#ws1`,
      '--tunnel-idle-timeout-ms', '300',
      '--max-long-lived-per-client', '1',
    ]);
  });
  after(async () => {
    await lb.close();
    await ws.close();
  });

  it('refuses an Upgrade to any protocol but websocket, without reaching a backend', async () => {
    const before = ws.upgrades();
    for (const protocol of ['h2c', 'evil', 'websocket, h2c']) {
      assert.equal(statusOf(await rawExchange(lb.port, upgradeRequest('/chat', { protocol }), 3000)), 400, protocol);
    }
    assert.equal(ws.upgrades(), before);
    assert.ok((await rejectedCount(lb, 'upgrade-protocol')) >= 3);
  });

  it('refuses an Upgrade for an undeclared or malformed Host', async () => {
    const before = ws.upgrades();
    assert.equal(statusOf(await rawExchange(lb.port, upgradeRequest('/chat', { host: 'evil.example' }), 3000)), 421);
    assert.equal(statusOf(await rawExchange(lb.port, upgradeRequest('/chat', { host: 'a@evil.example' }), 3000)), 400);
    assert.equal(ws.upgrades(), before);
  });

  it('closes a tunnel idle for --tunnel-idle-timeout-ms and logs it with status 101', async () => {
    const t = await openTunnel(lb.port, '127.0.0.2');
    assert.equal(t.status, 101);
    t.socket.write('ping');
    const started = Date.now();
    await t.closed;
    assert.ok(Date.now() - started < 3000, 'closed by the idle timeout');
    const line = await eventually(() => lb.logLines.find((l) => l['log'] === 'access' && l['status'] === 101 && l['client'] === '127.0.0.2'), 3000, 'access line');
    assert.equal(line['error'], 'tunnel idle timeout');
    assert.equal(line['backend'], 'ws1');
  });

  it('caps a client\'s tunnels as long-lived responses (429), other clients unaffected', async () => {
    const first = await openTunnel(lb.port, '127.0.0.3');
    assert.equal(first.status, 101);
    const second = await openTunnel(lb.port, '127.0.0.3');
    assert.equal(second.status, 429);
    assert.ok((await rejectedCount(lb, 'client-long-lived')) >= 1);
    const other = await openTunnel(lb.port, '127.0.0.4');
    assert.equal(other.status, 101);
    for (const t of [first, second, other]) t.socket.destroy();
  });

  it('relays a backend refusal (non-101) with hop-by-hop fields stripped', async () => {
    const answer = await rawExchange(lb.port, `GET /refuse HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`, 3000);
    assert.equal(statusOf(answer), 403);
    const head = answer.slice(0, answer.indexOf('\r\n\r\n')).toLowerCase();
    assert.doesNotMatch(head, /keep-alive|x-internal|upgrade/);
    assert.match(head, /x-served-by: ws1/);
    assert.match(answer, /no way\n$/);
  });
});

describe('upgrade rate limiting', () => {
  let ws: Awaited<ReturnType<typeof startWsBackend>>;
  let lb: TestBalancer;
  before(async () => {
    ws = await startWsBackend();
    lb = await startTestBalancer(['--backend', `http://127.0.0.1:${ws.port}#ws1`, '--rate-limit-rps', '0.001', '--rate-limit-burst', '3']);
  });
  after(async () => {
    await lb.close();
    await ws.close();
  });

  it('counts Connection: Upgrade GETs in the client\'s rate limit', async () => {
    // Burst 3, then 429 (the refill is one per 1000 s).
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t = await openTunnel(lb.port, '127.0.0.5');
      statuses.push(t.status);
      t.socket.destroy();
      await t.closed;
    }
    assert.deepEqual(statuses, [101, 101, 101, 429]);
    assert.ok((await rejectedCount(lb, 'rate-limit')) >= 1);
    // Plain requests from that client share the bucket; another client has its own.
    const plain = (localAddress: string): Promise<number> =>
      new Promise((resolve, reject) => {
        http.get(`http://127.0.0.1:${lb.port}/`, { agent: false, localAddress, headers: { host: 'x' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
    assert.equal(await plain('127.0.0.5'), 429);
    assert.equal(await plain('127.0.0.6'), 200);
  });
});
