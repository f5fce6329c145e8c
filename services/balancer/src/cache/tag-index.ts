// Which cached entries carry which Cache-Tag, so a purge by tag finds them without a scan.

export function parseCacheTags(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  return [
    ...new Set(
      text
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0),
    ),
  ];
}

export class TagIndex {
  private readonly byTag = new Map<string, Set<string>>();
  private readonly byKey = new Map<string, string[]>();

  add(key: string, tags: readonly string[]): void {
    this.remove(key);
    if (tags.length === 0) return;
    this.byKey.set(key, [...tags]);
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  remove(key: string): void {
    const tags = this.byKey.get(key);
    if (!tags) return;
    this.byKey.delete(key);
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
  }

  keysFor(tag: string): string[] {
    return [...(this.byTag.get(tag) ?? [])];
  }

  get tagCount(): number {
    return this.byTag.size;
  }
}
