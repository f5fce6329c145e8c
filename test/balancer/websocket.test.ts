// WebSocket tunnelling: a real RFC 6455 handshake and echo through the balancer (frames encoded
// by hand: small text frames only), and the backend named on the 101 response.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { freePort } from '../support/index.js';
import { startTestBalancer, type TestBalancer } from './helpers.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Decodes one frame (payload < 126 bytes) from `buf`; returns it and the rest. */
function decodeFrame(buf: Buffer): { opcode: number; payload: Buffer; rest: Buffer } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = buf[0]! & 0x0f;
  const masked = (buf[1]! & 0x80) !== 0;
  const len = buf[1]! & 0x7f;
  const start = 2 + (masked ? 4 : 0);
  if (len >= 126 || buf.length < start + len) return undefined;
  const payload = Buffer.from(buf.subarray(start, start + len));
  if (masked) for (let i = 0; i < len; i++) payload[i]! ^= buf[2 + (i % 4)]!;
  return { opcode, payload, rest: buf.subarray(start + len) };
}

function encodeFrame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  const head = Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([head, key, masked]);
}

function startEchoServer(name: string): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end('not a websocket'));
  server.on('upgrade', (req, socket) => {
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Echo-Server: ${name}\r\n\r\n`);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let f = decodeFrame(pending); f; f = decodeFrame(pending)) {
        pending = f.rest;
        if (f.opcode === 0x8) return socket.end();
        socket.write(encodeFrame(`echo:${f.payload.toString()}`, false));
      }
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('WebSocket through the balancer', () => {
  let echo: http.Server;
  let lb: TestBalancer;
  before(async () => {
    echo = await startEchoServer('ws1');
    const dead = await freePort();
    // A refusing backend first: the upgrade is retried on the live one (nothing was sent).
    lb = await startTestBalancer(['--backend', `http://127.0.0.1:${dead}#dead`, '--backend', `http://127.0.0.1:${(echo.address() as AddressInfo).port}#ws1`, '--strategy', 'round-robin']);
  });
  after(async () => {
    await lb.close();
    echo.closeAllConnections();
    await new Promise<void>((r) => echo.close(() => r()));
  });

  it('completes the handshake and echoes messages both ways', async () => {
    for (let round = 0; round < 2; round++) {
      const socket = net.connect(lb.port, '127.0.0.1');
      const key = randomBytes(16).toString('base64');
      socket.write(`GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      let buf: Buffer = Buffer.alloc(0);
      const received: string[] = [];
      let head = '';
      const done = new Promise<void>((resolve, reject) => {
        socket.on('error', reject);
        socket.on('close', () => resolve());
        socket.on('data', (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk]);
          if (!head) {
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            head = buf.subarray(0, end).toString();
            buf = buf.subarray(end + 4);
            socket.write(encodeFrame('hello', true));
            socket.write(encodeFrame('dramble', true));
          }
          for (let f = decodeFrame(buf); f; f = decodeFrame(buf)) {
            buf = f.rest;
            received.push(f.payload.toString());
          }
          if (received.length === 2) socket.end(Buffer.from([0x88, 0x80, 1, 2, 3, 4]));
        });
      });
      await done;
      assert.match(head, /^HTTP\/1\.1 101/);
      assert.match(head, new RegExp(`sec-websocket-accept: ${createHash('sha1').update(`${key}${GUID}`).digest('base64').replace(/[+/]/g, '\\$&')}`, 'i'));
      assert.match(head, /x-served-by: ws1/i);
      assert.deepEqual(received, ['echo:hello', 'echo:dramble']);
    }
  });
});
