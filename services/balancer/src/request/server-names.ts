// Which Host values this balancer answers for (nginx's server_name): the declared names, loopback
// and the listener's own address, on the ports the site is reached at. Anything else would let a
// client choose the host a backend writes into absolute links, and each new name would be a new
// cache entry (RFC 9110 §7.4: a server may refuse a request not meant for it with 421).
import { normalisedHost, parseAuthority } from './authority.js';

export interface ServerNameOptions {
  /** Declared names: `example.org`, `*.example.org` (any subdomain), or IP literals. */
  names: readonly string[];
  /** Ports a Host may carry besides none, 80 and 443 (the listener's, the public HTTPS one). */
  ports: readonly number[];
  /** The listener's own address, accepted like loopback when it is a specific one. */
  listenHost?: string | undefined;
}

/** The request's Host, normalised, when accepted; otherwise the status to refuse it with. */
export type HostVerdict = string | 400 | 421;

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
const MEMO_LIMIT = 256;

export class ServerNames {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly ports: Set<number>;
  // Accepted values by spelling, per scheme: most requests carry one of a few spellings. Refused
  // values are never kept (a client can invent any number of them).
  private readonly memo = [new Map<string, string>(), new Map<string, string>()];

  constructor(options: ServerNameOptions) {
    for (const raw of [...options.names, ...LOOPBACK]) {
      const n = raw.trim().toLowerCase();
      if (n.startsWith('*.')) this.suffixes.push(n.slice(1));
      else if (n !== '') this.exact.add(n.includes(':') && !n.startsWith('[') ? `[${n}]` : n);
    }
    const listen = options.listenHost?.trim().toLowerCase();
    if (listen && listen !== '0.0.0.0' && listen !== '::' && listen !== '[::]') this.exact.add(listen.includes(':') && !listen.startsWith('[') ? `[${listen}]` : listen);
    this.ports = new Set([80, 443, ...options.ports]);
  }

  /** Whether a bare name (no port) is one of ours. */
  declares(name: string): boolean {
    if (this.exact.has(name)) return true;
    for (const s of this.suffixes) if (name.length > s.length && name.endsWith(s)) return true;
    return false;
  }

  check(value: string | undefined, https: boolean): HostVerdict {
    if (value === undefined) return 400;
    const memo = this.memo[https ? 1 : 0]!;
    const known = memo.get(value);
    if (known !== undefined) return known;
    const a = parseAuthority(value);
    if (a === undefined) return 400;
    if (!this.declares(a.name) || (a.port !== undefined && !this.ports.has(a.port))) return 421;
    const host = normalisedHost(a, https);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(value, host);
    return host;
  }
}
