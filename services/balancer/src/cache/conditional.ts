// Conditional requests answered from a cached entry (RFC 9110 §13.1.2, §13.1.3, §15.4.5), so a
// browser revalidating its copy gets a 304 without the backend being asked.

type Headers = Record<string, string | string[] | undefined>;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Weak comparison: `W/"x"` and `"x"` match (If-None-Match uses weak comparison). */
function opaque(tag: string): string {
  const t = tag.trim();
  return t.startsWith('W/') ? t.slice(2) : t;
}

export function isNotModified(request: Headers, stored: Headers): boolean {
  const inm = request['if-none-match'];
  const etag = first(stored['etag']);
  if (inm !== undefined) {
    const text = Array.isArray(inm) ? inm.join(',') : inm;
    if (text.trim() === '*') return true;
    if (etag === undefined) return false;
    return text.split(',').some((t) => opaque(t) === opaque(etag));
  }
  const ims = first(request['if-modified-since']);
  const lastModified = first(stored['last-modified']);
  if (ims === undefined || lastModified === undefined) return false;
  const since = Date.parse(ims);
  const modified = Date.parse(lastModified);
  return Number.isFinite(since) && Number.isFinite(modified) && modified <= since;
}

/** The headers a 304 carries (RFC 9110 §15.4.5). */
export function notModifiedHeaders(stored: Record<string, string | string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified']) {
    const v = stored[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
