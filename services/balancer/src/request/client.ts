// Works out who the client is and the request id when a request arrives.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { headerFacts, normaliseIp, type RequestContext } from './context.js';
import type { TrustedProxies } from './trusted-proxies.js';

const VALID_ID = /^[\w.:@/+=-]{1,128}$/;

// Request ids: a random per-process prefix and a counter. Unique across restarts and replicas like
// a UUID, without a call into the random pool on every request.
const ID_PREFIX = randomBytes(9).toString('base64url');
let idCounter = 0;

export function newRequestId(): string {
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${ID_PREFIX}-${idCounter.toString(36)}`;
}

// The peer, once per connection: remoteAddress goes through the socket's getpeername bookkeeping
// on every read, and a keep-alive connection carries many requests.
const kPeer = Symbol('dramble.peer');
type PeerSocket = Socket & { [kPeer]?: string };

function peerOf(socket: Socket): string {
  const s = socket as PeerSocket;
  let peer = s[kPeer];
  if (peer === undefined) {
    peer = normaliseIp(socket.remoteAddress);
    // Not kept while unknown (a socket already closed): the next read tries again.
    if (peer !== '') s[kPeer] = peer;
  }
  return peer;
}

export function createContext(req: IncomingMessage, trusted: TrustedProxies, tls: boolean): RequestContext {
  const peer = peerOf(req.socket);
  const trustedPeer = trusted.has(peer);
  let clientIp = peer;
  if (trustedPeer) {
    // Walk X-Forwarded-For from the right; the first address not a trusted proxy is the client.
    const xff = req.headers['x-forwarded-for'];
    const chain = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').map((s) => s.trim()).filter(Boolean);
    for (let i = chain.length - 1; i >= 0; i--) {
      clientIp = normaliseIp(chain[i]);
      if (!trusted.has(clientIp)) break;
    }
  }
  const incomingProto = trustedPeer ? headerValue(req.headers['x-forwarded-proto']) : undefined;
  const headers = headerFacts(req.rawHeaders);
  const incomingId = headers.requestId;
  return {
    headers,
    id: incomingId !== undefined && VALID_ID.test(incomingId) ? incomingId : newRequestId(),
    peer,
    clientIp,
    trustedPeer,
    proto: incomingProto === 'https' || incomingProto === 'http' ? incomingProto : tls ? 'https' : 'http',
    start: performance.now(),
    // Every field from the start: one object shape for every request.
    backend: undefined,
    retries: 0,
    cache: undefined,
    bytes: undefined,
    error: undefined,
    gone: false,
    cancel: undefined,
    sink: undefined,
    closeWatched: false,
    slot: 'none',
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
