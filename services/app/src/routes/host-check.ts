// Which Host a request may name: a syntactically valid authority (else 400) that is one of ours
// (else 421). Pure: the request listener in app.ts applies the verdict before anything else runs,
// so a crafted Host can neither reach a page render nor create a page-cache entry.
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

export interface Authority {
  /** Lower case, without a trailing dot; an IPv6 literal keeps its brackets (as URL.hostname does). */
  host: string;
  port?: number;
}

// RFC 3986 §3.2.2 reg-name = *( unreserved / pct-encoded / sub-delims ), and IPv4address is a
// reg-name too as far as characters go. ':' '@' '/' '?' '#' '[' ']' and spaces are not in it.
const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;
// RFC 1034 §3.1: a DNS name is at most 255 octets; nothing longer names a host we could serve.
const MAX_HOST = 255;

/** host[:port] as RFC 9110 §7.2 / RFC 3986 §3.2 allow in a Host header; undefined if it is not one. */
export function parseAuthority(value: string): Authority | undefined {
  let host: string;
  let rest: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) return undefined;
    host = value.slice(0, close + 1);
    if (isIP(host.slice(1, -1)) !== 6) return undefined; // IPvFuture is not accepted
    rest = value.slice(close + 1);
  } else {
    const colon = value.indexOf(':');
    host = colon < 0 ? value : value.slice(0, colon);
    rest = colon < 0 ? '' : value.slice(colon);
    if (!REG_NAME.test(host)) return undefined;
  }
  if (host.length > MAX_HOST) return undefined;
  let port: number | undefined;
  if (rest !== '') {
    // port = *DIGIT (RFC 3986 §3.2.3): an empty port is allowed, "8080:1@evil.example" is not.
    if (!/^:\d{0,5}$/.test(rest)) return undefined;
    if (rest.length > 1) {
      port = Number(rest.slice(1));
      if (port > 65535) return undefined;
    }
  }
  host = host.toLowerCase();
  if (host.endsWith('.') && host.length > 1) host = host.slice(0, -1);
  return port === undefined ? { host } : { host, port };
}

export type HostVerdict = { ok: true } | { ok: false; status: 400 | 421; message: string };

/**
 * Host, and every X-Forwarded-Host value, must be valid (400) and declared (421). The port is not
 * compared: behind the balancer the app sees the public port, and direct checks use the app's own.
 * A request without Host (HTTP/1.0) is for the default site.
 */
export function hostVerdict(headers: IncomingHttpHeaders, declared: ReadonlySet<string>): HostVerdict {
  const named: string[] = [];
  if (headers.host !== undefined) named.push(headers.host);
  const forwarded = headers['x-forwarded-host']; // Node joins repeated ones with ", "
  if (typeof forwarded === 'string') named.push(...forwarded.split(',').map((h) => h.trim()));
  let foreign = false;
  for (const value of named) {
    const a = parseAuthority(value);
    if (!a) return { ok: false, status: 400, message: 'The Host (or X-Forwarded-Host) header is not a valid host[:port].' };
    if (!declared.has(a.host)) foreign = true;
  }
  if (foreign) return { ok: false, status: 421, message: 'This server does not serve that host name.' };
  return { ok: true };
}

/** The host names served: the public URL's and the allowed ones, normalised as parseAuthority does. */
export function declaredHosts(publicUrl: string, allowed: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const h of [new URL(publicUrl).host, ...allowed]) {
    const a = parseAuthority(h);
    if (a) out.add(a.host);
  }
  return out;
}
