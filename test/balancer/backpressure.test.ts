// Large downloads stream through with backpressure: a client that stops reading makes the backend
// stop writing (the balancer never reads a whole body into memory), and the body arrives intact
// once the client reads again. Covers the direct path and the compressed (stream) path.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { startBackend, startTestBalancer, type TestBackend, type TestBalancer } from './helpers.js';

const TOTAL = 96 * 1024 * 1024;
// Random text: compressing it saves little, so the compressed path carries most of the bytes too.
const CHUNK = Buffer.from(randomBytes(48 * 1024).toString('base64'));

describe('backpressure on large downloads', () => {
  let lb: TestBalancer;
  let backend: TestBackend;
  /** Bytes the backend's socket accepted so far, per request path. */
  const written = new Map<string, number>();

  before(async () => {
    backend = await startBackend('big', (req, res) => {
      const path = req.url ?? '/';
      written.set(path, 0);
      res.writeHead(200, { 'content-type': path === '/text' ? 'text/plain' : 'application/octet-stream', 'content-length': TOTAL, 'cache-control': 'no-store' });
      const pump = (): void => {
        for (;;) {
          const sent = written.get(path)!;
          if (sent >= TOTAL) {
            res.end();
            return;
          }
          written.set(path, sent + CHUNK.length);
          if (!res.write(CHUNK)) {
            res.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    lb = await startTestBalancer(['--backend', backend.url, '--no-cache']);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  async function pausedThenDrained(path: string, headers: Record<string, string>): Promise<{ whilePaused: number; received: number }> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${lb.base}${path}`, { headers }, (res) => {
        res.pause();
        // Give every buffer on the way (sockets, the balancer) time to fill up.
        setTimeout(() => {
          const whilePaused = written.get(path) ?? 0;
          let received = 0;
          res.on('data', (c: Buffer) => (received += c.length));
          res.on('end', () => resolve({ whilePaused, received }));
          res.on('error', reject);
          res.resume();
        }, 1000);
      });
      req.on('error', reject);
    });
  }

  it('stops the backend while the client does not read, then delivers every byte', async () => {
    const { whilePaused, received } = await pausedThenDrained('/binary', {});
    // Socket buffers on loopback hold a few MB each way; an unbounded proxy would take all 96 MB.
    assert.ok(whilePaused < TOTAL / 2, `backend wrote ${whilePaused} bytes while the client was paused`);
    assert.equal(received, TOTAL);
  });

  it('does the same through compression (the stream path)', async () => {
    const { whilePaused, received } = await pausedThenDrained('/text', { 'accept-encoding': 'gzip' });
    assert.ok(whilePaused < TOTAL / 2, `backend wrote ${whilePaused} bytes while the client was paused`);
    assert.ok(received > TOTAL / 2 && received < TOTAL, `the body arrived gzipped (${received} bytes)`);
  });
});
