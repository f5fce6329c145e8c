// The response header list for res.writeHead(status, [name, value, ...]), built in one pass over a
// backend's raw headers (undici's name/value Buffers) for a response that goes straight to the
// client. It says what response/passes.ts says for a header map (the cache's and compression's
// path) without building one: Node then skips the object walk and per-field bookkeeping too.
// - names in lower case, hop-by-hop headers and every header the backend's Connection names dropped;
// - the served-by header names the backend, replacing any the backend sent;
// - Via: the backend's entries, then ours;
// - X-Request-Id, Strict-Transport-Security and X-Cache replace the backend's when we set them;
// - when the cache saw the request (X-Cache set), the backend's Cache-Tag stays with us.
// Repeated fields stay separate entries (Node writes one line each, as for an array value).
import { headerName, headerValue } from '../request/header-strings.js';
import { HOP_BY_HOP, connectionTokens } from '../request/hop-by-hop.js';

/** The fields this balancer adds to a backend's response. */
export interface AddedResponseFields {
  /** Lower-case name of the header that names the backend (X-Served-By by default). */
  readonly servedByName: string;
  readonly backendName: string;
  /** Our Via entry (`1.1 dramble-balancer`), appended after the backend's own. */
  readonly viaEntry: string;
  readonly requestId: string | undefined;
  /** Strict-Transport-Security value when it applies to this response (HTTPS, configured). */
  readonly hsts: string | undefined;
  /** X-Cache value when the request went past the cache (BYPASS); undefined with the cache off. */
  readonly xCache: string | undefined;
}

export function responseHeaderList(raw: readonly Buffer[], add: AddedResponseFields): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  let via: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = headerName(raw[i]!);
    // Values are decoded only for the fields that are read or kept.
    if (HOP_BY_HOP.has(name)) {
      if (name === 'connection') {
        const value = headerValue(raw[i + 1]!);
        connection = connection === undefined ? value : `${connection}, ${value}`;
      }
      continue;
    }
    if (name === 'via') {
      const value = headerValue(raw[i + 1]!);
      via = via === undefined ? value : `${via}, ${value}`;
      continue;
    }
    if (replacedByOurs(name, add)) continue;
    out.push(name, headerValue(raw[i + 1]!));
  }
  // "keep-alive" and "close" name no other header: the usual values need no parsing.
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') {
    const named = connectionTokens(connection);
    if (named !== undefined && named.size > 0) {
      dropNamed(out, named);
      if (named.has('via')) via = undefined;
    }
  }
  out.push(add.servedByName, add.backendName, 'via', via ? `${via}, ${add.viaEntry}` : add.viaEntry);
  if (add.requestId !== undefined) out.push('x-request-id', add.requestId);
  if (add.hsts !== undefined) out.push('strict-transport-security', add.hsts);
  if (add.xCache !== undefined) out.push('x-cache', add.xCache);
  return out;
}

function replacedByOurs(name: string, add: AddedResponseFields): boolean {
  if (name === add.servedByName) return true;
  switch (name) {
    case 'x-request-id':
      return add.requestId !== undefined;
    case 'strict-transport-security':
      return add.hsts !== undefined;
    case 'x-cache':
    case 'cache-tag':
      return add.xCache !== undefined;
    default:
      return false;
  }
}

/** Removes, in place, the fields whose (lower-case) names are in `names`. */
function dropNamed(list: string[], names: ReadonlySet<string>): void {
  let w = 0;
  for (let r = 0; r < list.length; r += 2) {
    if (names.has(list[r]!)) continue;
    list[w++] = list[r]!;
    list[w++] = list[r + 1]!;
  }
  list.length = w;
}

/**
 * The Content-Length a header list declares, or -1 for none. undici framed the body by the same
 * field, so the value is already known to be well formed.
 */
export function contentLengthOf(list: readonly string[]): number {
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === 'content-length') {
      const n = Number(list[i + 1]);
      return Number.isSafeInteger(n) && n >= 0 ? n : -1;
    }
  }
  return -1;
}
