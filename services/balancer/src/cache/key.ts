// Cache keys: the primary key names the resource (host + path + query), the secondary key the
// variant selected by the request headers the response's Vary lists (RFC 9111 §4.1).

type Headers = Record<string, string | string[] | undefined>;

export interface KeyRequest {
  url?: string | undefined;
  headers: Headers;
}

export interface PrimaryKey {
  /** Lower-case host without a default port, as the client asked for it. */
  host: string;
  /** Path and query exactly as requested (so `?a=1&b=2` and `?b=2&a=1` are different entries). */
  path: string;
  key: string;
}

export function primaryKey(req: KeyRequest): PrimaryKey {
  const host = normalizeHost(req.headers['host']);
  let path = req.url ?? '/';
  // An absolute-form target (RFC 9112 §3.2.2) names the same resource as its origin-form.
  if (!path.startsWith('/')) {
    try {
      const u = new URL(path);
      path = u.pathname + u.search;
    } catch {
      /* keep as is: it will simply be its own key */
    }
  }
  return { host, path, key: `${host}${path}` };
}

export function normalizeHost(value: string | string[] | undefined): string {
  const v = (Array.isArray(value) ? value[0] : value) ?? '';
  return v.trim().toLowerCase().replace(/:(80|443)$/, '');
}

/** The variant key: the values of the varied request headers, normalized so equal requests share. */
export function secondaryKey(varyNames: readonly string[], headers: Headers): string {
  if (varyNames.length === 0) return '';
  return varyNames.map((name) => `${name}=${normalizeField(name, headers[name])}`).join('\n');
}

function normalizeField(name: string, value: string | string[] | undefined): string {
  if (value === undefined) return '';
  const text = Array.isArray(value) ? value.join(', ') : value;
  if (name === 'accept-encoding') return normalizeAcceptEncoding(text);
  // RFC 9111 §4.1: whitespace and list combination may be normalized.
  return text
    .split(',')
    .map((p) => p.trim())
    .join(',');
}

/**
 * Browsers send dozens of spellings of Accept-Encoding; only which codings are acceptable
 * matters to a backend that varies on it, so `gzip, deflate, br` and `br;q=1, gzip` share.
 */
export function normalizeAcceptEncoding(text: string): string {
  const accepted = new Set<string>();
  for (const part of text.split(',')) {
    const [coding, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!coding) continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    accepted.add(coding);
  }
  return [...accepted].sort().join(',');
}
