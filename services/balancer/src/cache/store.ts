// The memory side of the edge cache: entries in a byte-bounded LRU, grouped by primary key so
// Vary can pick a variant, and indexed by Cache-Tag for purges.
import { ByteLru } from './lru.js';
import { TagIndex } from './tag-index.js';
import { secondaryKey, type PrimaryKey } from './key.js';
import type { Lifetimes } from './cacheability.js';

type Headers = Record<string, string | string[] | undefined>;

export interface CacheEntry extends Lifetimes {
  primary: PrimaryKey;
  /** primary key + variant key: the LRU's key. */
  key: string;
  varyNames: string[];
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  backend: { id: string; name: string };
  /** Clock time (ms) the response arrived. */
  storedAt: number;
  tags: string[];
  size: number;
}

/** Header and bookkeeping bytes are charged too, so a flood of empty 404s cannot outgrow the budget. */
export function entrySize(e: Pick<CacheEntry, 'key' | 'headers' | 'body' | 'tags'>): number {
  let n = 256 + e.key.length * 2 + e.body.length;
  for (const [k, v] of Object.entries(e.headers)) n += k.length + (Array.isArray(v) ? v.join('').length : v.length) + 8;
  for (const t of e.tags) n += t.length * 3;
  return n;
}

export type PurgeKind = 'url' | 'prefix' | 'tag';

interface Group {
  varyNames: string[];
  variants: Set<string>;
}

export class CacheStore {
  private readonly lru: ByteLru<CacheEntry>;
  private readonly groups = new Map<string, Group>();
  private readonly tags = new TagIndex();

  constructor(maxBytes: number, onEvict: (e: CacheEntry) => void = () => {}) {
    this.lru = new ByteLru<CacheEntry>(maxBytes, (_k, e) => {
      this.forget(e);
      onEvict(e);
    });
  }

  get bytes(): number {
    return this.lru.bytes;
  }

  get entries(): number {
    return this.lru.size;
  }

  get maxBytes(): number {
    return this.lru.maxBytes;
  }

  resize(maxBytes: number): void {
    this.lru.resize(maxBytes);
  }

  /** The Vary names last seen for this resource, so a request can be keyed before the answer. */
  varyNamesFor(primary: PrimaryKey): string[] {
    return this.groups.get(primary.key)?.varyNames ?? [];
  }

  variantKey(primary: PrimaryKey, headers: Headers): string {
    return `${primary.key}\n${secondaryKey(this.varyNamesFor(primary), headers)}`;
  }

  /** The entry serving these request headers, marked recently used. */
  lookup(primary: PrimaryKey, headers: Headers): CacheEntry | undefined {
    if (!this.groups.has(primary.key)) return undefined;
    return this.lru.get(this.variantKey(primary, headers));
  }

  /** Stores an entry built with `makeKey`; false when it is larger than the whole budget. */
  put(entry: Omit<CacheEntry, 'key' | 'size'>, requestHeaders: Headers): CacheEntry | undefined {
    const key = `${entry.primary.key}\n${secondaryKey(entry.varyNames, requestHeaders)}`;
    const full: CacheEntry = { ...entry, key, size: 0 };
    full.size = entrySize(full);
    if (full.size > this.lru.maxBytes) return undefined;
    let group = this.groups.get(entry.primary.key);
    // A resource that changed what it varies on makes the old variants unreachable: drop them.
    if (group && group.varyNames.join(',') !== entry.varyNames.join(',')) {
      for (const k of [...group.variants]) this.remove(k);
      group = undefined;
    }
    if (!group) {
      group = { varyNames: entry.varyNames, variants: new Set() };
      this.groups.set(entry.primary.key, group);
    }
    group.variants.add(key);
    this.tags.add(key, entry.tags);
    this.lru.set(key, full, full.size);
    return full;
  }

  /** Removes every variant of a resource (RFC 9111 §4.4 invalidation); returns how many went. */
  invalidate(primaryKey: string): number {
    const group = this.groups.get(primaryKey);
    if (!group) return 0;
    return [...group.variants].filter((k) => this.remove(k)).length;
  }

  remove(key: string): boolean {
    const e = this.lru.delete(key);
    if (!e) return false;
    this.forget(e);
    return true;
  }

  /**
   * Purges by exact URL, URL prefix or tag; returns how many entries went. A URL or prefix that
   * is a path (`/posts/a`) matches on every host; an absolute one (`http://site/posts/a`) on its host.
   */
  purge(kind: PurgeKind, value: string): number {
    if (kind === 'tag') return this.tags.keysFor(value).filter((k) => this.remove(k)).length;
    const target = parseTarget(value);
    if (!target) return 0;
    const doomed: string[] = [];
    for (const [key, e] of this.lru.entries()) {
      if (target.host !== undefined && e.primary.host !== target.host) continue;
      if (kind === 'url' ? e.primary.path === target.path : e.primary.path.startsWith(target.path)) doomed.push(key);
    }
    return doomed.filter((k) => this.remove(k)).length;
  }

  clear(): number {
    const keys = [...this.lru.keys()];
    return keys.filter((k) => this.remove(k)).length;
  }

  private forget(e: CacheEntry): void {
    this.tags.remove(e.key);
    const group = this.groups.get(e.primary.key);
    if (!group) return;
    group.variants.delete(e.key);
    if (group.variants.size === 0) this.groups.delete(e.primary.key);
  }
}

function parseTarget(value: string): { host?: string; path: string } | undefined {
  if (value.startsWith('/')) return { path: value };
  try {
    const u = new URL(value);
    // new URL drops default ports; a bare "http://site" is the path "/" (the whole site as a prefix).
    return { host: u.host.toLowerCase(), path: u.pathname + u.search };
  } catch {
    return undefined;
  }
}
