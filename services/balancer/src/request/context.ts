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
}

const contexts = new WeakMap<IncomingMessage, RequestContext>();

export function setContext(req: IncomingMessage, ctx: RequestContext): void {
  contexts.set(req, ctx);
}

export function getContext(req: IncomingMessage): RequestContext | undefined {
  return contexts.get(req);
}

export function normaliseIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
