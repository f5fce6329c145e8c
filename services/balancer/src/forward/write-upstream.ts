// Writes a backend response to the client: response passes, optional compression, body streamed
// with backpressure. If the backend body fails mid-way the client connection is destroyed, so the
// client sees an aborted response, never a truncated one that looks complete.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getContext } from '../request/context.js';
import { applyResponsePasses, type ResponsePassOptions } from '../response/passes.js';
import { UpstreamBody, asReadable } from './upstream-body.js';
import type { OutgoingResponse, WriteUpstream } from './types.js';

export type Compress = (req: IncomingMessage, upstream: OutgoingResponse) => OutgoingResponse;

/** No body goes to the client: a HEAD request, or a status that has none. */
export function bodiless(method: string | undefined, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

export function createWriteUpstream(options: () => ResponsePassOptions, compress?: Compress): WriteUpstream {
  return function writeUpstream(res: ServerResponse, upstream: OutgoingResponse, extraHeaders?: Record<string, string | string[]>): Promise<void> {
    const req = res.req;
    const ctx = getContext(req);
    const up = compress ? compress(req, upstream) : upstream;
    const body = up.body;
    // A backend's own header map, sent as it streams, is nobody else's: amend it instead of copying.
    // (Cache entries share theirs; teed and compressed responses keep the original for the cache.)
    const owned = body instanceof UpstreamBody && !body.claimed;
    const headers = applyResponsePasses(up.headers, up.backend.name, req.httpVersion, ctx, options(), extraHeaders, owned);
    if (ctx) {
      ctx.backend = up.backend.name;
      ctx.retries = up.retries;
      // Known now, before the body: the access line may be written before the cache's promise settles.
      const xCache = extraHeaders?.['x-cache'];
      if (typeof xCache === 'string') ctx.cache = xCache;
    }
    if (Buffer.isBuffer(body)) {
      // From memory: headers and body leave in one write.
      if (!res.destroyed) {
        res.writeHead(up.status, headers);
        const send = !bodiless(req.method, up.status) && body.length > 0;
        if (ctx) ctx.bytes = send ? body.length : 0;
        res.end(send ? body : undefined);
      }
      return Promise.resolve();
    }
    if (owned) {
      // The backend's body straight into the client socket: no stream, no pipe.
      if (res.destroyed) {
        body.discard();
        return Promise.resolve();
      }
      try {
        res.writeHead(up.status, headers);
      } catch (err) {
        // A header Node refuses to send: free the backend connection before the error page.
        body.discard();
        throw err;
      }
      if (bodiless(req.method, up.status)) {
        body.discard();
        if (ctx) ctx.bytes = 0;
        res.end();
        return Promise.resolve();
      }
      if (ctx) ctx.sink = body;
      return new Promise<void>((resolve) => {
        body.writeTo(
          res,
          {
            bodyWritten() {
              if (ctx) ctx.bytes = body.bytes;
              resolve();
            },
          },
          ctx !== undefined && ctx.closeWatched === true,
        );
      });
    }
    const stream = asReadable(body);
    return new Promise<void>((resolve) => {
      if (res.destroyed) {
        // undici emits 'error' on an early destroy; without a listener it would crash the process.
        stream.on('error', () => undefined);
        stream.destroy();
        resolve();
        return;
      }
      try {
        res.writeHead(up.status, headers);
      } catch (err) {
        // Refused as the head is written (a header Node refuses, a long-lived cap): free the backend.
        stream.on('error', () => undefined);
        stream.destroy();
        throw err;
      }
      if (bodiless(req.method, up.status)) {
        stream.resume();
        stream.once('error', () => undefined);
        res.once('close', () => resolve());
        res.end(() => resolve());
        return;
      }
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        resolve();
      };
      if (ctx) {
        let bytes = 0;
        stream.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          ctx.bytes = bytes;
        });
      }
      // pipe() rather than pipeline(): pipeline allocates an AbortController (and a DOMException
      // when it finishes) per response, measurable on the hot path.
      stream.once('error', (err) => {
        // The backend died mid-body: cut the client connection so the response cannot look whole.
        res.destroy(err);
        done();
      });
      res.once('close', () => {
        if (!stream.readableEnded) stream.destroy();
        done();
      });
      stream.pipe(res);
    });
  };
}
