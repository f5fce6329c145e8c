// Which stored resources an unsafe method's answer invalidates (RFC 9111 §4.4): the target URI,
// and the URIs in Location and Content-Location when they are on the same origin (a different
// host must not be able to purge another site's entries through us). Pure.
import { firstValue } from './http-date.js';
import { normalizeHost, primaryKey } from './key.js';

type Headers = Record<string, string | string[] | undefined>;

export interface InvalidatingRequest {
  url?: string | undefined;
  headers: Headers;
}

/** Primary keys (host + path) to invalidate. */
export function invalidationTargets(req: InvalidatingRequest, response: Headers): string[] {
  const target = primaryKey(req);
  const keys = [target.key];
  for (const name of ['location', 'content-location']) {
    const value = firstValue(response[name]);
    if (value === undefined) continue;
    const key = sameOriginKey(value, target.host, target.path);
    if (key !== undefined && !keys.includes(key)) keys.push(key);
  }
  return keys;
}

function sameOriginKey(value: string, host: string, path: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value.trim(), `http://${host || 'invalid.invalid'}${path.startsWith('/') ? path : '/'}`);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  if (normalizeHost(u.host) !== host) return undefined;
  return `${host}${u.pathname}${u.search}`;
}
