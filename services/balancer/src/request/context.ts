// Per-request facts the passes share: who the client is, the request id, when it started.
import type { IncomingMessage } from 'node:http';

export interface RequestContext {
  id: string;
  /** The TCP peer (normalised, no ::ffff: prefix). */
  peer: string;
  /** The client as best known: the right-most untrusted X-Forwarded-For entry, else the peer. */
  clientIp: string;
  /** The peer is a trusted proxy: its X-Forwarded-* headers are kept. */
  trustedPeer: boolean;
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
