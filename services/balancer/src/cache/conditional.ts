// Conditional requests around a stored entry: answering a client's own validators from the cache
// (RFC 9110 §13.1.2, §13.1.3, §15.4.5; RFC 9111 §4.3.2), the validators the cache sends when it
// revalidates (§4.3.1), and what a 304 or a HEAD answer changes in the stored headers (§4.3.4, §4.3.5, §3.2).
import { firstValue, parseHttpDate } from './http-date.js';

type Headers = Record<string, string | string[] | undefined>;
type StoredHeaders = Record<string, string | string[]>;

/** Weak comparison: `W/"x"` and `"x"` match (If-None-Match uses weak comparison). */
function opaque(tag: string): string {
  const t = tag.trim();
  return t.startsWith('W/') ? t.slice(2) : t;
}

/** True when the client's If-None-Match / If-Modified-Since say its copy is the stored one. */
export function isNotModified(request: Headers, stored: Headers): boolean {
  const inm = request['if-none-match'];
  if (inm !== undefined) {
    const text = Array.isArray(inm) ? inm.join(',') : inm;
    if (text.trim() === '*') return true;
    const etag = firstValue(stored['etag']);
    if (etag === undefined) return false;
    const mine = opaque(etag);
    return text.split(',').some((t) => opaque(t) === mine);
  }
  // If-Modified-Since is ignored when If-None-Match is present (RFC 9110 §13.1.3).
  const ims = firstValue(request['if-modified-since']);
  if (ims === undefined) return false;
  // Without Last-Modified the stored Date stands in (RFC 9111 §4.3.2).
  const modified = parseHttpDate(firstValue(stored['last-modified']) ?? firstValue(stored['date']));
  const since = parseHttpDate(ims);
  return Number.isFinite(since) && Number.isFinite(modified) && modified <= since;
}

/** The headers a 304 carries (RFC 9110 §15.4.5). */
export function notModifiedHeaders(stored: StoredHeaders): StoredHeaders {
  const out: StoredHeaders = {};
  for (const name of ['cache-control', 'cdn-cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified']) {
    const v = stored[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** If-None-Match / If-Modified-Since from the stored validators; undefined when it has none (§4.3.1). */
export function revalidationHeaders(stored: StoredHeaders): Record<string, string> | undefined {
  const etag = firstValue(stored['etag']);
  const lastModified = firstValue(stored['last-modified']);
  if (etag === undefined && lastModified === undefined) return undefined;
  const out: Record<string, string> = {};
  if (etag !== undefined) out['if-none-match'] = etag;
  if (lastModified !== undefined) out['if-modified-since'] = lastModified;
  return out;
}

/** The client's own conditional and range fields: not sent when the cache validates its entry or fills one. */
export const CLIENT_CONDITIONALS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range'] as const;

/**
 * Whether a 304 (or a HEAD's 200) describes the stored response (§4.3.4): a strong ETag must be
 * equal; without ETags, the Last-Modified dates must be; with neither, it is taken to.
 */
export function describesStored(answer: Headers, stored: StoredHeaders): boolean {
  const a = firstValue(answer['etag']);
  const s = firstValue(stored['etag']);
  if (a !== undefined || s !== undefined) return a !== undefined && s !== undefined && opaque(a) === opaque(s);
  const al = firstValue(answer['last-modified']);
  const sl = firstValue(stored['last-modified']);
  if (al !== undefined || sl !== undefined) return al === sl;
  return true;
}

/**
 * Fields a 304 or HEAD answer does not replace in the stored response (RFC 9111 §3.2): hop-by-hop
 * ones, Content-Length, and those the stored body depends on (its coding and range).
 */
const NOT_UPDATED = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'trailer', 'upgrade', 'content-length', 'content-encoding', 'content-range', 'age', 'x-cache']);

/** The stored headers with every field of `answer` added or replaced, but for NOT_UPDATED. */
export function updatedHeaders(stored: StoredHeaders, answer: StoredHeaders): StoredHeaders {
  const out: StoredHeaders = { ...stored };
  for (const name in answer) if (!NOT_UPDATED.has(name)) out[name] = answer[name]!;
  return out;
}
