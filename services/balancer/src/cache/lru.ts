// A least-recently-used map bounded by bytes, not entries: a 2 MB page and a 2 KB fragment
// must not count the same against a Pi's memory budget.

export class ByteLru<V> {
  private readonly map = new Map<string, { value: V; size: number }>();
  private total = 0;

  constructor(
    private max: number,
    /** Called for every entry pushed out to make room (not for delete/clear). */
    private readonly onEvict: (key: string, value: V) => void = () => {},
  ) {}

  get maxBytes(): number {
    return this.max;
  }

  /** Changes the budget; shrinking evicts least recently used entries at once. */
  resize(maxBytes: number): void {
    this.max = maxBytes;
    this.evictToFit();
  }

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.map.size;
  }

  /** Returns the value and marks it most recently used. */
  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  peek(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Stores the value, evicting least recently used entries; false if it can never fit. */
  set(key: string, value: V, size: number): boolean {
    if (size > this.max) return false;
    this.delete(key);
    this.map.set(key, { value, size });
    this.total += size;
    this.evictToFit();
    return true;
  }

  private evictToFit(): void {
    while (this.total > this.max) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      const k = oldest.value;
      const e = this.map.get(k)!;
      this.map.delete(k);
      this.total -= e.size;
      this.onEvict(k, e.value);
    }
  }

  delete(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.total -= e.size;
    return e.value;
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  entries(): Generator<[string, V]> {
    const map = this.map;
    return (function* () {
      for (const [k, e] of map) yield [k, e.value];
    })();
  }
}
