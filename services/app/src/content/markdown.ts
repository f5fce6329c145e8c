// Markdown to HTML that is safe to embed: marked renders, sanitize-html keeps only harmless markup.
// Both libraries load on first use: only writers need them, and reading pages is most of the work
// (it keeps a reading instance's memory small on a 2 GB Pi).
import type sanitizeHtmlType from 'sanitize-html';

type Renderer = (md: string) => string;
let renderer: Promise<Renderer> | undefined;

async function load(): Promise<Renderer> {
  const [{ Marked }, { default: sanitizeHtml }] = await Promise.all([import('marked'), import('sanitize-html')]);
  const marked = new Marked({ gfm: true, breaks: false, async: false });
  const options = sanitizeOptions(sanitizeHtml);
  return (md) => sanitizeHtml(marked.parse(md) as string, options);
}

function sanitizeOptions(sanitizeHtml: typeof sanitizeHtmlType): sanitizeHtmlType.IOptions {
  return {
    allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'h1', 'h2', 'del', 'ins', 'sup', 'sub'],
    allowedAttributes: {
      a: ['href', 'title', 'rel'],
      img: ['src', 'alt', 'title', 'width', 'height'],
      code: ['class'],
      th: ['align'],
      td: ['align'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https'] },
    allowProtocolRelative: false,
    allowedClasses: { code: [/^language-[\w-]+$/] },
    transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener nofollow' }) },
  };
}

/** Markdown to sanitized HTML: only harmless tags, attributes and URL schemes survive. */
export async function renderMarkdown(md: string): Promise<string> {
  renderer ??= load();
  return (await renderer)(md);
}
