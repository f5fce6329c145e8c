// One client cannot take the site from everyone else: per-IP connection and in-flight caps, a
// server-wide connection cap, and long-lived responses (event streams) capped apart from short
// requests. Clients are told apart by source address (127.0.0.1, 127.0.0.2, ... are all loopback).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startBackend, startTestBalancer, eventually, rejectedCount, statusOf, type TestBackend, type TestBalancer } from './helpers.js';

/** A backend with an endless event stream on /events (counted while open), a held answer on /slow and 200 elsewhere. */
async function startSseBackend(): Promise<TestBackend & { streams: () => number; maxStreams: () => number; release: () => void }> {
  let open = 0;
  let max = 0;
  let held: http.ServerResponse[] = [];
  const b = await startBackend('pi1', (req, res) => {
    if (req.url?.startsWith('/events')) {
      open++;
      max = Math.max(max, open);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': hello\n\n');
      res.on('close', () => open--);
      return;
    }
    if (req.url === '/slow') {
      held.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
  });
  return {
    ...b,
    streams: () => open,
    maxStreams: () => max,
    release: () => {
      for (const r of held) r.end('done');
      held = [];
    },
  };
}

/** Opens a connection from `localAddress` and sends `GET path`; resolves with the socket and the status line it got (0 if cut first). */
function openRequest(port: number, path: string, localAddress = '127.0.0.1'): { socket: net.Socket; status: Promise<number> } {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  socket.setNoDelay(true);
  const status = new Promise<number>((resolve) => {
    let buf = '';
    socket.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      if (buf.includes('\r\n')) resolve(statusOf(buf));
    });
    socket.on('error', () => resolve(0));
    socket.on('close', () => resolve(statusOf(buf)));
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  return { socket, status };
}

function timedGet(url: string, localAddress: string): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, localAddress, headers: { host: 'x' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start }));
    });
    req.on('error', reject);
  });
}

describe('one client holding 1,000 connections on an event stream', () => {
  let backend: Awaited<ReturnType<typeof startSseBackend>>;
  let lb: TestBalancer;
  const sockets: net.Socket[] = [];
  before(async () => {
    backend = await startSseBackend();
    // Defaults: 64 connections and 8 long-lived responses per client, 64 long-lived in total.
    lb = await startTestBalancer(['--backend', backend.url]);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await lb.close();
    await backend.close();
  });

  it('answers a second client within 2 s, while the first gets at most its share', async () => {
    const statuses: Array<Promise<number>> = [];
    for (let i = 0; i < 1000; i++) {
      const { socket, status } = openRequest(lb.port, `/events?i=${i}`);
      sockets.push(socket);
      statuses.push(status);
    }
    // Every one of the 1,000 is either streaming, refused with a status, or closed at accept.
    const results = await Promise.all(statuses);
    const streaming = results.filter((s) => s === 200).length;
    assert.equal(streaming, 8, 'the per-client long-lived cap');
    assert.equal(backend.streams(), 8, 'the backend holds only those streams');
    assert.ok(results.filter((s) => s === 429).length > 0, 'over the cap: 429');
    assert.ok(results.filter((s) => s === 0).length >= 1000 - 64, 'connections over the per-client cap closed at accept');

    const other = await timedGet(`${lb.base}/login`, '127.0.0.2');
    assert.equal(other.status, 200);
    assert.ok(other.ms < 2000, `second client answered in ${Math.round(other.ms)} ms`);
    assert.ok((await rejectedCount(lb, 'client-connections')) >= 1000 - 64);
    assert.ok((await rejectedCount(lb, 'client-long-lived')) >= 1);
    // The first client's streams are still alive.
    assert.equal(backend.streams(), 8);
  });
});

describe('admission caps', () => {
  let backend: Awaited<ReturnType<typeof startSseBackend>>;
  let lb: TestBalancer;
  before(async () => {
    backend = await startSseBackend();
    lb = await startTestBalancer(['--backend', backend.url, '--no-cache', '--max-long-lived', '3', '--max-in-flight-per-client', '2', '--max-connections', '40']);
  });
  after(async () => {
    backend.release();
    await lb.close();
    await backend.close();
  });

  it('caps event streams in total, whichever clients hold them, with 503', async () => {
    const opened = [2, 3, 4].map((n) => openRequest(lb.port, '/events', `127.0.0.${n}`));
    assert.deepEqual(await Promise.all(opened.map((o) => o.status)), [200, 200, 200]);
    const fourth = openRequest(lb.port, '/events', '127.0.0.5');
    assert.equal(await fourth.status, 503);
    assert.ok((await rejectedCount(lb, 'long-lived')) >= 1);
    // Short requests still pass, from the same clients too.
    assert.equal((await timedGet(`${lb.base}/page`, '127.0.0.2')).status, 200);
    // A closed stream frees its place.
    opened[0]!.socket.destroy();
    await eventually(() => backend.streams() === 2, 5000, 'backend stream closed');
    await eventually(async () => (await openRequest(lb.port, '/events', '127.0.0.6').status) === 200, 5000, 'a place for a new stream');
    for (const o of opened) o.socket.destroy();
    fourth.socket.destroy();
  });

  it('caps one client\'s requests in flight with 429, leaving other clients alone', async () => {
    const a = openRequest(lb.port, '/slow', '127.0.0.7');
    const b = openRequest(lb.port, '/slow', '127.0.0.7');
    await eventually(() => backend.seen.filter((s) => s.url === '/slow').length >= 2, 5000, 'two slow requests at the backend');
    const third = openRequest(lb.port, '/slow', '127.0.0.7');
    assert.equal(await third.status, 429);
    assert.ok((await rejectedCount(lb, 'client-in-flight')) >= 1);
    assert.equal((await timedGet(`${lb.base}/page`, '127.0.0.8')).status, 200);
    backend.release();
    assert.deepEqual(await Promise.all([a.status, b.status]), [200, 200]);
    // Answered: the client's slots are free again.
    assert.equal((await timedGet(`${lb.base}/page`, '127.0.0.7')).status, 200);
    for (const o of [a, b, third]) o.socket.destroy();
  });

  it('closes connections beyond --max-connections at accept, with a metric', async () => {
    const idle: net.Socket[] = [];
    for (let i = 0; i < 45; i++) idle.push(net.connect({ port: lb.port, host: '127.0.0.1', localAddress: `127.0.1.${1 + (i % 5)}` }));
    await eventually(async () => (await rejectedCount(lb, 'max-connections')) >= 5, 5000, 'connections dropped');
    for (const s of idle) s.destroy();
    await eventually(async () => (await timedGet(`${lb.base}/page`, '127.0.0.9')).status === 200, 5000, 'room again');
  });
});
