// Graceful shutdown: in-flight work finishes, new connections are refused, exit 0 before the deadline.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startMini } from './helpers.js';

function connectResult(port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

describe('graceful shutdown on SIGTERM', () => {
  it('completes the request in flight with 200, refuses new connections and exits 0 before the deadline', async () => {
    const svc = await startMini(['--name', 'x', '--shutdown-deadline-ms', '8000']);
    const inFlight = fetch(`http://127.0.0.1:${svc.port}/slow?ms=1500`);
    await svc.waitForEvent('slow-started');
    const t0 = Date.now();
    svc.child.kill('SIGTERM');

    // The listener closes at once; poll briefly because the signal is handled asynchronously.
    let refused = 'connected';
    const until = Date.now() + 1000;
    while (Date.now() < until && refused === 'connected') {
      refused = await connectResult(svc.port);
      if (refused === 'connected') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(refused, 'ECONNREFUSED');

    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'slow done');
    const code = await svc.exited;
    assert.equal(code, 0);
    const took = Date.now() - t0;
    assert.ok(took < 8000, `exited after ${took} ms, deadline 8000 ms`);
    assert.ok(took >= 1000, 'did not wait for the in-flight request');
  });

  it('cuts what is still running at the deadline and still exits 0', async () => {
    const svc = await startMini(['--name', 'x', '--shutdown-deadline-ms', '300']);
    const inFlight = fetch(`http://127.0.0.1:${svc.port}/slow?ms=20000`).then(
      () => 'answered',
      () => 'cut',
    );
    await svc.waitForEvent('slow-started');
    const t0 = Date.now();
    svc.child.kill('SIGTERM');
    assert.equal(await svc.exited, 0);
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(await inFlight, 'cut');
  });
});
