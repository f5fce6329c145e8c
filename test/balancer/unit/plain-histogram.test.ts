// The request-duration histogram counted in plain numbers exports what prom-client's Histogram
// would for the same observations: same text on /metrics, same sums across cluster workers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { PlainHistogram } from '../../../services/balancer/src/plain-histogram.js';

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const observations: Array<[string, number]> = [
  ['pi1', 0.0004],
  ['pi1', 0.001],
  ['pi1', 0.003],
  ['pi2', 0.02],
  ['pi1', 0.7],
  ['pi1', 40],
  ['-', 2],
];

function both(): { reference: Registry; plain: Registry; histogram: PlainHistogram } {
  const reference = new Registry();
  const plain = new Registry();
  const ref = new Histogram({ name: 'x_duration_seconds', help: 'Time', labelNames: ['backend'], buckets, registers: [reference] });
  const histogram = new PlainHistogram({ name: 'x_duration_seconds', help: 'Time', labelName: 'backend', buckets, registers: [plain] });
  for (const [backend, v] of observations) {
    ref.labels(backend).observe(v);
    histogram.labels(backend).observe(v);
  }
  return { reference, plain, histogram };
}

describe('plain histogram', () => {
  it('reads on /metrics exactly as prom-client\'s Histogram', async () => {
    const { reference, plain } = both();
    assert.equal(await plain.metrics(), await reference.metrics());
  });

  it('adds up across cluster workers as prom-client\'s Histogram does', async () => {
    const { reference, plain } = both();
    const sum = async (r: Registry): Promise<string> => AggregatorRegistry.aggregate([await r.getMetricsAsJSON(), await r.getMetricsAsJSON()]).metrics();
    assert.equal(await sum(plain), await sum(reference));
  });

  it('keeps counting through a child handed out before a reset', async () => {
    const { plain, histogram } = both();
    const child = histogram.labels('pi1');
    plain.resetMetrics();
    child.observe(0.002);
    const text = await plain.metrics();
    assert.match(text, /x_duration_seconds_count\{backend="pi1"\} 1\n/);
    assert.match(text, /x_duration_seconds_bucket\{le="0.001",backend="pi1"\} 0\n/);
    assert.match(text, /x_duration_seconds_bucket\{le="0.0025",backend="pi1"\} 1\n/);
  });
});
