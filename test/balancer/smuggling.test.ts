// Request-smuggling defences and request limits, over raw sockets: an ambiguous request is refused
// with 400 and never reaches a backend; oversized heads get 431, oversized bodies 413.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startTestBalancer, rawExchange, statusOf, type TestBackend, type TestBalancer } from './helpers.js';

describe('request smuggling and limits', () => {
  let backend: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    backend = await startBackend('pi1');
    lb = await startTestBalancer(['--backend', backend.url, '--max-header-size', '4096', '--max-body-size', '1000', '--no-cache']);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  const refused = async (name: string, raw: string, status = 400): Promise<void> => {
    const before = backend.seen.length;
    const answer = await rawExchange(lb.port, raw);
    assert.equal(statusOf(answer), status, `${name}: got ${answer.split('\r\n')[0]}`);
    // The smuggled second request ("GET /smuggled") must not reach the backend either.
    assert.equal(backend.seen.length, before, `${name}: the backend saw ${JSON.stringify(backend.seen.slice(before).map((s) => s.url))}`);
    assert.ok(!backend.seen.some((s) => s.url.includes('smuggled')));
  };

  it('forwards a well-formed request (control)', async () => {
    const answer = await rawExchange(lb.port, 'POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    assert.equal(statusOf(answer), 200);
    assert.equal(backend.seen.at(-1)?.bodyBytes, 5);
  });

  it('refuses CL.TE: Content-Length with Transfer-Encoding', async () => {
    await refused('CL.TE', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
  });

  it('refuses TE.CL: Transfer-Encoding first, then Content-Length', async () => {
    await refused('TE.CL', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n');
  });

  it('refuses conflicting Content-Length headers', async () => {
    await refused('CL.CL', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhelloGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
  });

  it('refuses a comma-joined Content-Length', async () => {
    await refused('CL list', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 40\r\n\r\nhello');
  });

  it('refuses an unknown or obfuscated transfer coding', async () => {
    await refused('TE xchunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n');
    await refused('TE gzip,chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
    await refused('TE space', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
  });

  it('refuses obs-fold (a header continued on the next line)', async () => {
    await refused('obs-fold', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n chunked\r\nContent-Length: 3\r\n\r\nabc');
    await refused('obs-fold 2', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\tX-B: 2\r\n\r\n');
  });

  it('refuses a bare LF line ending and a space before the colon', async () => {
    await refused('bare LF', 'GET / HTTP/1.1\nHost: x\nContent-Length: 0\n\n');
  });

  it('reduces an absolute-form target to its path and refuses other forms', async () => {
    const answer = await rawExchange(lb.port, 'GET http://x/abs?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(answer), 200);
    assert.equal(backend.seen.at(-1)?.url, '/abs?q=1');
    await refused('asterisk-form', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
    // Refusals are the client's fault: the backend is still healthy.
    const api = (await (await fetch(`${lb.admin}/api/backends`)).json()) as { backends: Array<{ health: string; failures: number }> };
    assert.deepEqual(api.backends.map((b) => [b.health, b.failures]), [['healthy', 0]]);
  });

  it('answers 431 to an oversized request head, without forwarding it', async () => {
    await refused('big header', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`, 431);
  });

  it('answers 413 to a declared body over the limit, without forwarding it', async () => {
    await refused('big declared body', `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n${'a'.repeat(100)}`, 413);
  });

  it('answers 413 to a chunked body that grows over the limit', async () => {
    const chunk = 'a'.repeat(600);
    const answer = await rawExchange(lb.port, `POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`);
    assert.equal(statusOf(answer), 413, answer.split('\r\n')[0]);
    // The backend may have started receiving the stream, but never a complete request.
    assert.ok(!backend.seen.some((s) => s.url === '/chunked' && s.bodyBytes > 1000));
  });
});

describe('slow clients (slowloris)', () => {
  let backend: TestBackend;
  let lb: TestBalancer;
  before(async () => {
    backend = await startBackend('pi1');
    lb = await startTestBalancer(['--backend', backend.url, '--headers-timeout-ms', '1000', '--request-timeout-ms', '2000']);
  });
  after(async () => {
    await lb.close();
    await backend.close();
  });

  it('cuts a client that never finishes its headers', async () => {
    const t0 = Date.now();
    const answer = await rawExchange(lb.port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ', 10_000);
    const took = Date.now() - t0;
    assert.ok(took < 8000, `connection held for ${took} ms`);
    assert.ok(answer === '' || statusOf(answer) === 408, answer.split('\r\n')[0]);
    assert.equal(backend.seen.length, 0);
  });
});
