// The byte-bounded LRU behind the cache's memory budget.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLru } from '../../../services/balancer/src/cache/lru.js';

describe('byte-bounded LRU', () => {
  it('evicts least recently used entries until the bytes fit', () => {
    const evicted: string[] = [];
    const lru = new ByteLru<string>(100, (k) => evicted.push(k));
    lru.set('a', 'A', 40);
    lru.set('b', 'B', 40);
    assert.equal(lru.get('a'), 'A'); // a is now most recent
    lru.set('c', 'C', 40);
    assert.deepEqual(evicted, ['b']);
    assert.equal(lru.bytes, 80);
    lru.set('d', 'D', 90);
    assert.deepEqual(evicted, ['b', 'a', 'c']);
    assert.equal(lru.size, 1);
  });

  it('refuses a value larger than the whole budget and keeps what it has', () => {
    const lru = new ByteLru<string>(100);
    lru.set('a', 'A', 50);
    assert.equal(lru.set('huge', 'H', 101), false);
    assert.equal(lru.peek('a'), 'A');
  });

  it('replaces a key without double-counting, and delete does not call onEvict', () => {
    let evictions = 0;
    const lru = new ByteLru<string>(100, () => evictions++);
    lru.set('a', 'A1', 60);
    lru.set('a', 'A2', 70);
    assert.equal(lru.bytes, 70);
    assert.equal(lru.get('a'), 'A2');
    assert.equal(lru.delete('a'), 'A2');
    assert.equal(lru.bytes, 0);
    assert.equal(evictions, 0);
  });

  it('evicts at once when the budget shrinks on a reload', () => {
    const evicted: string[] = [];
    const lru = new ByteLru<string>(100, (k) => evicted.push(k));
    lru.set('a', 'A', 40);
    lru.set('b', 'B', 40);
    lru.resize(50);
    assert.deepEqual(evicted, ['a']);
    assert.equal(lru.bytes, 40);
    assert.equal(lru.maxBytes, 50);
  });
});
