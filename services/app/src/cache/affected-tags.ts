// Which cached pages an edit affects: the pure rule behind exact invalidation.
import type { Content } from '../content/repo.js';

type Shown = Pick<Content, 'kind' | 'slug' | 'tags' | 'status'>;

function tagsShowing(c: Shown | null): string[] {
  if (!c || c.status !== 'published') return [];
  if (c.kind === 'page') return [`page:${c.slug}`, 'sitemap'];
  return [`post:${c.slug}`, 'home', 'feed', 'sitemap', ...c.tags.map((t) => `tag:${t}`)];
}

/** Cache tags of every page that showed the content before the edit or shows it after. Drafts affect nothing. */
export function affectedTags(before: Shown | null, after: Shown | null): string[] {
  return [...new Set([...tagsShowing(before), ...tagsShowing(after)])].sort();
}
