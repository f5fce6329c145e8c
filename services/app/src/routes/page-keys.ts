// Where a public page lives in the Redis page cache. The site routes store pages under these keys
// and the cache-hit fast path (cached-hit.ts) looks them up before express runs, so both build
// keys with the same functions here and cannot drift apart. A key is the page's path alone, never
// anything from Host or X-Forwarded-Host: every host the app serves (routes/host-check.ts) gets
// the same bytes, since absolute links come from the public URL setting, so keying by host would
// only let random Host values multiply the entries.
import { SLUG_RE } from '../content/schema.js';

export const pageKey = {
  home: (page: number): string => (page === 1 ? '/' : `/?page=${page}`),
  content: (kind: 'post' | 'page', slug: string): string => `/${kind}s/${slug}`,
  tag: (tag: string, page: number): string => `/tags/${tag}?page=${page}`,
  feed: '/feed.xml',
  sitemap: '/sitemap.xml',
};

export const validSlug = (slug: string): boolean => slug.length <= 100 && SLUG_RE.test(slug);
export const validTag = (tag: string): boolean => tag.length <= 40 && SLUG_RE.test(tag);

/** A page the fast path may answer: its cache key, and the route label express would give it in metrics. */
export interface CacheableRoute {
  key: string;
  route: string;
}

const HOME: CacheableRoute = { key: pageKey.home(1), route: '/' };
const FEED: CacheableRoute = { key: pageKey.feed, route: '/feed.xml' };
const SITEMAP: CacheableRoute = { key: pageKey.sitemap, route: '/sitemap.xml' };

/**
 * The cached page a request URL asks for, for canonical URLs only: lower-case path, no trailing
 * slash, no percent-encoding, no query string. Anything else (`/?page=2`, `/Posts/x`) returns
 * undefined and is left to the express routes, which accept more spellings of the same page.
 */
export function cacheableRoute(url: string): CacheableRoute | undefined {
  if (url === '/') return HOME;
  if (url === '/feed.xml') return FEED;
  if (url === '/sitemap.xml') return SITEMAP;
  if (url.startsWith('/posts/') || url.startsWith('/pages/')) {
    const slug = url.slice(7);
    if (!validSlug(slug)) return undefined;
    const kind = url[1] === 'p' && url[2] === 'o' ? 'post' : 'page';
    return { key: pageKey.content(kind, slug), route: `/${kind}s/:slug` };
  }
  if (url.startsWith('/tags/')) {
    const tag = url.slice(6);
    return validTag(tag) ? { key: pageKey.tag(tag, 1), route: '/tags/:tag' } : undefined;
  }
  return undefined;
}
