// The Atom feed (RFC 4287) of recent posts, and sitemap.xml / robots.txt.
import type { Content } from '../content/repo.js';
import { isoDate } from './dates.js';
import { escapeHtml as x } from './html.js';

export function atomFeed(base: string, posts: Content[]): string {
  const updated = posts.reduce((m, p) => (p.updatedAt > m ? p.updatedAt : m), new Date(0));
  const entries = posts
    .map(
      (p) => `  <entry>
    <title>${x(p.title)}</title>
    <link href="${x(`${base}/posts/${p.slug}`)}"/>
    <id>${x(`${base}/posts/${p.slug}`)}</id>
    <published>${isoDate(p.publishedAt)}</published>
    <updated>${isoDate(p.updatedAt)}</updated>
    ${p.authorName ? `<author><name>${x(p.authorName)}</name></author>` : '<author><name>Dramble</name></author>'}
    <summary>${x(p.summary)}</summary>
    <content type="html">${x(p.bodyHtml)}</content>
  </entry>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Dramble</title>
  <link href="${x(base)}/"/>
  <link rel="self" href="${x(base)}/feed.xml"/>
  <id>${x(base)}/</id>
  <updated>${isoDate(updated)}</updated>
${entries}
</feed>
`;
}

export function sitemap(base: string, entries: Array<{ kind: 'post' | 'page'; slug: string; updatedAt: Date }>): string {
  const urls = [
    `  <url><loc>${x(base)}/</loc></url>`,
    ...entries.map((e) => `  <url><loc>${x(`${base}/${e.kind === 'post' ? 'posts' : 'pages'}/${e.slug}`)}</loc><lastmod>${isoDate(e.updatedAt)}</lastmod></url>`),
  ];
  return `<?xml version="1.0" encoding="utf-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
${urls.join('\n')}
</urlset>
`;
}

export function robotsTxt(base: string): string {
  return `User-agent: *\nDisallow: /editor\nDisallow: /login\nDisallow: /api/\nSitemap: ${base}/sitemap.xml\n`;
}
