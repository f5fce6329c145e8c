// Parses a Host header (or an absolute-form target's authority) as RFC 9110 §7.2 defines it:
// uri-host [ ":" port ], with uri-host and port from RFC 3986 §3.2.2 and §3.2.3. No userinfo, no
// second colon outside an IPv6 literal, no path: `127.0.0.1:8080:1@evil.example` is not an authority.

import { isIPv6 } from 'node:net';

export interface Authority {
  /** Lower-case host: a reg-name, an IPv4 address or a bracketed IPv6 literal (`[::1]`). */
  name: string;
  /** The port, or undefined when none was given (or it was empty, `host:`). */
  port: number | undefined;
}

// reg-name = *( unreserved / pct-encoded / sub-delims ); IP-literal = "[" IPv6address "]".
const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::(\d{0,5}))?$/;

/** The parsed authority, or undefined when the value is not one. */
export function parseAuthority(value: string): Authority | undefined {
  const m = AUTHORITY.exec(value);
  if (m === null) return undefined;
  const digits = m[2];
  const port = digits === undefined || digits === '' ? undefined : Number(digits);
  if (port !== undefined && port > 65535) return undefined;
  const name = m[1]!;
  // The pattern only bounds an IP-literal's characters; `[:::::]` is no IPv6 address (RFC 3986 §3.2.2).
  if (name.charCodeAt(0) === 91 /* [ */ && !isIPv6(name.slice(1, -1))) return undefined;
  return { name: name.toLowerCase(), port };
}

/** `name[:port]` with the scheme's default port left out (RFC 3986 §6.2.3), as the cache keys it. */
export function normalisedHost(a: Authority, https: boolean): string {
  if (a.port === undefined || a.port === (https ? 443 : 80)) return a.name;
  return `${a.name}:${a.port}`;
}
