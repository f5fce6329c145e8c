// Public pages: home with paging, a post, a page, a tag listing, 404 and 500.
import type { Content } from '../content/repo.js';
import { humanDate, isoDate } from './dates.js';
import { html, raw, type SafeHtml } from './html.js';
import { layout, type Viewer } from './layout.js';

function tagList(tags: string[]): SafeHtml {
  if (tags.length === 0) return html``;
  return html`<ul class="tags" aria-label="Tags">${tags.map((t) => html`<li><a href="/tags/${encodeURIComponent(t)}">${t}</a></li>`)}</ul>`;
}

function postCard(c: Content): SafeHtml {
  return html`<article class="card">
<h2><a href="/posts/${c.slug}">${c.title}</a></h2>
<p class="meta"><time datetime="${isoDate(c.publishedAt)}">${humanDate(c.publishedAt)}</time>${c.authorName ? html` · ${c.authorName}` : ''}</p>
${c.summary ? html`<p>${c.summary}</p>` : ''}
${tagList(c.tags)}
</article>`;
}

function pager(base: string, page: number, total: number, perPage: number): SafeHtml {
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (pages <= 1) return html``;
  const sep = base.includes('?') ? '&' : '?';
  return html`<nav class="pager" aria-label="Pages">
<span>${page > 1 ? html`<a rel="prev" href="${page === 2 ? base : `${base}${sep}page=${page - 1}`}">Newer posts</a>` : ''}</span>
<span>Page ${page} of ${pages}</span>
<span>${page < pages ? html`<a rel="next" href="${base}${sep}page=${page + 1}">Older posts</a>` : ''}</span>
</nav>`;
}

export function homePage(posts: Content[], page: number, total: number, perPage: number, viewer: Viewer | null, canonical?: string): string {
  return layout({
    canonical,
    title: page > 1 ? `Posts, page ${page}` : 'Home',
    description: 'A small, highly available website on a cluster of Raspberry Pis.',
    viewer,
    body: html`<h1>${page > 1 ? `Posts, page ${page}` : 'The Dramble'}</h1>
${page === 1 ? html`<p>A highly available website running on a stack of Raspberry Pis. <a href="/cluster">See which Pi served you.</a></p>` : ''}
<section aria-label="Recent posts">
${posts.length ? posts.map(postCard) : html`<p>No posts yet.</p>`}
</section>
${pager('/', page, total, perPage)}`,
  });
}

export function contentPage(c: Content, viewer: Viewer | null, canonical?: string): string {
  return layout({
    canonical,
    title: c.title,
    description: c.summary,
    viewer,
    body: html`<article>
<h1>${c.title}</h1>
${c.kind === 'post' ? html`<p class="meta"><time datetime="${isoDate(c.publishedAt)}">${humanDate(c.publishedAt)}</time>${c.authorName ? html` · ${c.authorName}` : ''}</p>` : ''}
<div class="body">${raw(c.bodyHtml)}</div>
${tagList(c.tags)}
</article>`,
  });
}

export function tagPage(tag: string, posts: Content[], page: number, total: number, perPage: number, viewer: Viewer | null, canonical?: string): string {
  return layout({
    canonical,
    title: `Posts tagged ${tag}`,
    viewer,
    body: html`<h1>Posts tagged “${tag}”</h1>
${posts.length ? posts.map(postCard) : html`<p>No posts with this tag.</p>`}
${pager(`/tags/${encodeURIComponent(tag)}`, page, total, perPage)}`,
  });
}

export function notFoundPage(viewer: Viewer | null): string {
  return layout({
    title: 'Not found',
    viewer,
    body: html`<h1>Page not found</h1><p>There is nothing at this address. Try the <a href="/">home page</a>.</p>`,
  });
}

export function errorPage(title: string, message: string, viewer: Viewer | null = null): string {
  return layout({ title, viewer, body: html`<h1>${title}</h1><p>${message}</p><p><a href="/">Back to the home page</a></p>` });
}
