// The shared logger: secrets redacted, and the hand-built line writer producing the same lines
// as pino itself.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, lineWriter } from '@dramble/lib';

function capture(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { stream, lines };
}

describe('logger', () => {
  it('never writes secrets', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'svc', destination: stream });
    logger.info({ password: 'hunter2', req: { headers: { authorization: 'Bearer x', cookie: 'sid=1' } } }, 'login');
    assert.equal(lines[0]!['password'], '[redacted]');
    assert.deepEqual((lines[0]!['req'] as { headers: unknown }).headers, { authorization: '[redacted]', cookie: '[redacted]' });
  });

  it('writes hand-built lines exactly as pino would, and follows the level', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'svc', destination: stream });
    const child = logger.child({ log: 'access' });
    const writer = lineWriter(child);
    child.info({ method: 'GET', path: '/a"b\\c', status: 200 });
    writer.write(`"method":"GET","path":${JSON.stringify('/a"b\\c')},"status":200`);
    assert.equal(lines.length, 2);
    const [viaPino, viaWriter] = lines.map(({ time, ...rest }) => {
      assert.ok(!Number.isNaN(Date.parse(String(time))), 'an ISO time');
      return rest;
    });
    assert.deepEqual(viaWriter, viaPino);
    assert.equal(viaWriter!['service'], 'svc');
    child.level = 'warn';
    assert.equal(writer.enabled(), false);
  });
});
