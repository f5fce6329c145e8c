// The contract between the forwarding engine and the edge cache (src/cache/layer.ts):
// the cache asks for an upstream response with FetchUpstream and writes one with WriteUpstream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { UpstreamBody } from './upstream-body.js';

export interface UpstreamResponse {
  status: number;
  /** Response headers from the backend, lower-case names, hop-by-hop headers already removed. */
  headers: Record<string, string | string[]>;
  /**
   * The streamed body: the forwarder's UpstreamBody (asReadable() when a stream is needed) or any
   * Readable. Discard it (discardBody) if you do not consume it: that releases the connection.
   */
  body: Readable | UpstreamBody;
  backend: { id: string; name: string };
  /** How many times the request was retried on another backend before this response. */
  retries: number;
}

/** What WriteUpstream writes: a backend's response, or one answered from memory (a cache hit). */
export interface OutgoingResponse extends Omit<UpstreamResponse, 'body'> {
  /** A stream, or the whole body at once (written with the headers in one go). */
  body: Readable | UpstreamBody | Buffer;
}

/** Why a request could not be answered by any backend; `status` is the page the client gets. */
export type BackendErrorKind =
  | 'no-backend' // 503: no healthy backend (or all draining)
  | 'connect' // 502: refused / reset / DNS before any response byte
  | 'timeout' // 504: connect or response-header timeout
  | 'protocol'; // 502: malformed response from the backend

export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    readonly kind: BackendErrorKind,
    readonly status: 502 | 503 | 504,
    message: string,
    readonly backend?: { id: string; name: string },
    readonly retries = 0,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Forwards with balancing, health and retries; resolves once response headers arrived,
 * rejects with a typed BackendError (502/503/504 meaning) otherwise.
 * `opts.headers` are added to / override the outgoing request headers (e.g. conditional
 * revalidation headers); `opts.method` overrides the method (e.g. GET for a cached HEAD).
 * When the method is overridden to GET/HEAD no request body is sent. `opts.drop` names request
 * fields not sent (the client's own conditionals when the cache validates its entry);
 * `opts.interim` receives the backend's 1xx responses (100, 102, 103) before the final one.
 */
export type FetchUpstream = (
  req: IncomingMessage,
  opts?: { headers?: Record<string, string>; method?: string; drop?: readonly string[]; interim?: InterimListener },
) => Promise<UpstreamResponse>;

/** Called with each informational (1xx) response the backend sends before its final one. */
export type InterimListener = (status: number, raw: Buffer[]) => void;

/**
 * Writes an UpstreamResponse to the client: response passes (X-Served-By, Via, request id,
 * hop-by-hop already stripped), optional compression, streamed body with backpressure.
 * Resolves when the body is fully written; if the upstream body errors mid-way the client
 * socket is destroyed (never a truncated response presented as whole) and it resolves too.
 * `extraHeaders` (e.g. X-Cache, Age) are set after the passes.
 */
export type WriteUpstream = (
  res: ServerResponse,
  upstream: OutgoingResponse,
  extraHeaders?: Record<string, string | string[]>,
) => Promise<void>;
