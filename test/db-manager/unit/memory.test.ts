// The periodic full GC: runs only when gc is exposed, first once start-up is done, then on its interval, and stops.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { collectLoadingGarbage, startPeriodicGc } from '../../../services/db-manager/src/memory.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('periodic gc', () => {
  it('collects first once start-up is done, then every everyMs, and not after stop', async () => {
    const calls: unknown[] = [];
    const stop = startPeriodicGc(sleep(20), 40, (o) => calls.push(o));
    await sleep(10);
    assert.equal(calls.length, 0);
    await sleep(120);
    assert.ok(calls.length >= 2 && calls.length <= 4, `${calls.length} collections in 130 ms`);
    // the first a plain gc() (V8 shrinks the heap after it), then options-object ones that do not block
    assert.equal(calls[0], undefined);
    assert.deepEqual(calls.slice(1), calls.slice(1).map(() => ({ type: 'major', execution: 'async' })));
    stop();
    const n = calls.length;
    await sleep(100);
    assert.equal(calls.length, n, 'no collection after stop');
  });

  it('waits for start-up however long it takes', async () => {
    const calls: unknown[] = [];
    let done!: () => void;
    const stop = startPeriodicGc(new Promise<void>((r) => (done = r)), 1000, (o) => calls.push(o));
    await sleep(30);
    assert.equal(calls.length, 0, 'nothing before start-up is done');
    done();
    await sleep(1);
    assert.equal(calls.length, 1, 'one collection once it is');
    assert.equal(calls[0], undefined, 'a plain gc()');
    stop();
    const late = startPeriodicGc(Promise.resolve(), 1000, (o) => calls.push(o));
    late();
    await sleep(1);
    assert.equal(calls.length, 1, 'no collection when stopped before start-up was done');
  });

  it('does nothing when gc is not exposed', () => {
    const stop = startPeriodicGc(sleep(10), 10, undefined);
    stop();
    collectLoadingGarbage(undefined);
  });

  it('collects the loading garbage with one plain, synchronous gc()', () => {
    const calls: unknown[][] = [];
    collectLoadingGarbage((...args: unknown[]) => calls.push(args));
    assert.deepEqual(calls, [[]]);
  });
});
