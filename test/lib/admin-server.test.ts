// The admin listener: liveness, readiness driven by registered checks, Prometheus metrics.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMini, type MiniService } from './helpers.js';

/** Checks the Prometheus text exposition format line by line (version 0.0.4). */
export function assertPrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const metricLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|\+Inf|-Inf))( \d+)?$/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    const m = metricLine.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  assert.ok(types.size > 0, 'no # TYPE lines');
  return samples;
}

describe('admin listener', () => {
  let svc: MiniService;
  before(async () => {
    svc = await startMini();
  });
  after(() => svc.child.kill('SIGKILL'));
  const admin = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${svc.adminPort}${path}`);

  it('answers /healthz with 200', async () => {
    const r = await admin('/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'ok' });
  });

  it('turns /readyz to 503 when a registered check fails, and back to 200', async () => {
    let r = await admin('/readyz');
    assert.equal(r.status, 200);
    await fetch(`http://127.0.0.1:${svc.port}/ready?on=0`);
    r = await admin('/readyz');
    assert.equal(r.status, 503);
    const body = (await r.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    assert.equal(body.checks['toggle']?.ok, false);
    assert.equal(body.checks['toggle']?.error, 'toggled off');
    await fetch(`http://127.0.0.1:${svc.port}/ready?on=1`);
    r = await admin('/readyz');
    assert.equal(r.status, 200);
  });

  it('serves /metrics as Prometheus text with the default process metrics', async () => {
    const r = await admin('/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const samples = assertPrometheusText(await r.text());
    const rss = [...samples].find(([k]) => k.startsWith('dramble_process_resident_memory_bytes'));
    assert.ok(rss && rss[1] > 1_000_000, 'resident memory reported');
  });

  it('keeps the admin listener apart from the public one', async () => {
    assert.notEqual(svc.port, svc.adminPort);
    const pub = await fetch(`http://127.0.0.1:${svc.port}/metrics`);
    assert.doesNotMatch(await pub.text(), /# TYPE/);
    assert.equal((await admin('/nope')).status, 404);
  });
});
