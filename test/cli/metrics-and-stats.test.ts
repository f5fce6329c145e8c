// What the dashboard and `dramble load` compute from numbers: requests per backend from the
// balancer's Prometheus text, db-manager events for the timeline, latency percentiles, tables.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { requestsPerBackend, matchBackend, normalizeEvents, percentile, table } from '@dramble/cli';

describe('dashboard numbers', () => {
  it('sums the balancer request counter per backend over status classes', () => {
    const text = [
      '# HELP dramble_balancer_requests_total Requests answered',
      'dramble_balancer_requests_total{code="2xx",backend="app-2",service="balancer"} 10',
      'dramble_balancer_requests_total{code="5xx",backend="app-2",service="balancer"} 1',
      'dramble_balancer_requests_total{code="2xx",backend="app-1",service="balancer"} 3',
      'dramble_balancer_request_duration_seconds_count{service="balancer",backend="app-1"} 99',
      'process_cpu_seconds_total 5',
    ].join('\n');
    const m = requestsPerBackend(text);
    assert.equal(m.get('app-2'), 11);
    assert.equal(m.get('app-1'), 3);
  });

  it('matches a backend to an app by name or address', () => {
    assert.ok(matchBackend('app-1', { name: 'app-1' }));
    assert.ok(matchBackend('http://127.0.0.1:8081', { name: 'app-1', url: 'http://127.0.0.1:8081' }));
    assert.ok(!matchBackend('app-2', { name: 'app-1', url: 'http://127.0.0.1:8081' }));
  });

  it('turns db-manager events into timeline entries', () => {
    const t = normalizeEvents({ events: [{ at: '2026-01-01T00:00:00.000Z', type: 'failover', message: 'failed over to b' }, { at: 0, kind: 'x' }] });
    assert.deepEqual(t[0], { at: '2026-01-01T00:00:00.000Z', kind: 'failover', text: 'failed over to b' });
    assert.equal(t[1]?.kind, 'x');
    assert.deepEqual(normalizeEvents(null), []);
  });
});

describe('load statistics', () => {
  it('takes percentiles by nearest rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(v, 99), 99);
    assert.equal(percentile(v, 50), 50);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([], 99), 0);
  });

  it('lines up table columns', () => {
    assert.equal(table([['a', 'bb'], ['ccc', 'd']]), 'a    bb\nccc  d');
  });
});
