// Per-request facts the passes share: who the client is, the request id, when it started.
import type { IncomingMessage } from 'node:http';

/**
 * The few request headers the proxy path reads, from one pass over the raw list: reading
 * `req.headers` makes Node build the whole header object, which a proxied request otherwise never
 * needs. Repeated fields are joined with ", " as Node joins them (Host and Content-Length keep the
 * first; a repeat of either is refused as ambiguous framing anyway).
 */
export interface HeaderFacts {
  host: string | undefined;
  contentLength: string | undefined;
  transferEncoding: string | undefined;
  connection: string | undefined;
  requestId: string | undefined;
  acceptEncoding: string | undefined;
}

export interface RequestContext {
  id: string;
  /** The TCP peer (normalised, no ::ffff: prefix). */
  peer: string;
  /** The client as best known: the right-most untrusted X-Forwarded-For entry, else the peer. */
  clientIp: string;
  /** The peer is a trusted proxy: its X-Forwarded-* headers are kept. */
  trustedPeer: boolean;
  headers: HeaderFacts;
  /** http or https, as the client reached us (or a trusted proxy says). */
  proto: string;
  start: number;
  /** Backend that answered, retries made, cache result: filled in for the access log. */
  backend?: string;
  retries: number;
  cache?: string;
  /** Response body bytes written (for the access log). */
  bytes?: number;
  error?: string;
  /** The client connection closed before the response was complete. */
  gone?: boolean;
  /** Aborts the backend attempt waiting for its response headers (set by the forwarder). */
  cancel: ((err: Error) => void) | undefined;
  /** The backend body being written straight into the response: told when the response closes. */
  sink?: { clientClosed(): void };
  /** The server listens for the response's close and tells `sink` (no listener of its own needed). */
  closeWatched?: boolean;
  /** Which per-client count holds this request (request/client-tally.ts): none yet, short, long-lived. */
  slot: 'none' | 'short' | 'long';
}

// A symbol property rather than a WeakMap: a WeakMap entry per request is extra work for the GC.
const kContext = Symbol('dramble.context');
type WithContext = IncomingMessage & { [kContext]?: RequestContext };

export function setContext(req: IncomingMessage, ctx: RequestContext): void {
  (req as WithContext)[kContext] = ctx;
}

export function getContext(req: IncomingMessage): RequestContext | undefined {
  return (req as WithContext)[kContext];
}

export function normaliseIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

const join = (prior: string | undefined, value: string): string => (prior === undefined ? value : `${prior}, ${value}`);

export function headerFacts(raw: readonly string[]): HeaderFacts {
  const f: HeaderFacts = { host: undefined, contentLength: undefined, transferEncoding: undefined, connection: undefined, requestId: undefined, acceptEncoding: undefined };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Compare lengths first: most names are none of these and need no lower-casing.
    switch (name.length) {
      case 4:
        if (f.host === undefined && name.toLowerCase() === 'host') f.host = raw[i + 1];
        break;
      case 10:
        if (name.toLowerCase() === 'connection') f.connection = join(f.connection, raw[i + 1]!);
        break;
      case 12:
        if (name.toLowerCase() === 'x-request-id') f.requestId = join(f.requestId, raw[i + 1]!);
        break;
      case 14:
        if (f.contentLength === undefined && name.toLowerCase() === 'content-length') f.contentLength = raw[i + 1];
        break;
      case 15:
        if (name.toLowerCase() === 'accept-encoding') f.acceptEncoding = join(f.acceptEncoding, raw[i + 1]!);
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') f.transferEncoding = join(f.transferEncoding, raw[i + 1]!);
        break;
    }
  }
  return f;
}
