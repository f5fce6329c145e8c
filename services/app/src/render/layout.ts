// The page shell every HTML response shares: skip link, header and nav, main, footer.
import { assets } from './assets.js';
import { html, raw, type SafeHtml } from './html.js';

/** Replaced per response (not per cached copy) with the degraded-mode banner, if any. */
export const BANNER_SLOT = '<!--dramble:banner-->';

export interface Viewer {
  name: string;
  csrf: string;
}

export interface LayoutOptions {
  title: string;
  description?: string;
  viewer?: Viewer | null;
  body: SafeHtml;
  scripts?: string[];
  /** Absolute URL of the page, built from the public URL setting (never from the request's Host). */
  canonical?: string | undefined;
}

export function layout(o: LayoutOptions): string {
  const v = o.viewer;
  return (
    '<!doctype html>\n' +
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · Dramble</title>
${o.description ? html`<meta name="description" content="${o.description}">` : ''}
${o.canonical ? html`<link rel="canonical" href="${o.canonical}">` : ''}
<link rel="stylesheet" href="${assets.css.path}">
<link rel="alternate" type="application/atom+xml" title="Dramble news" href="/feed.xml">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><div class="wrap">
<a class="brand" href="/">Dramble</a>
<nav aria-label="Main"><ul>
<li><a href="/">Home</a></li>
<li><a href="/pages/about">About</a></li>
<li><a href="/cluster">Cluster</a></li>
${
  v
    ? html`<li><a href="/editor">Editor</a></li>
<li><form method="post" action="/logout"><input type="hidden" name="_csrf" value="${v.csrf}"><button class="secondary" type="submit">Log out ${v.name}</button></form></li>`
    : html`<li><a href="/login">Log in</a></li>`
}
</ul></nav>
</div></header>
${raw(BANNER_SLOT)}
<main id="main" class="wrap">
${o.body}
</main>
<footer class="site"><div class="wrap"><p>Served by a cluster of Raspberry Pis. <a href="/feed.xml">Atom feed</a> · <a href="/sitemap.xml">Sitemap</a></p></div></footer>
${(o.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
</body>
</html>
`.value
  );
}

export function bannerHtml(message: string): string {
  return html`<div class="banner" role="status"><div class="wrap"><p>${message}</p></div></div>`.value;
}

export function fillBanner(page: string, banner: string): string {
  return page.replace(BANNER_SLOT, banner);
}
