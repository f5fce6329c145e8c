// Writes a backend response to the client: response passes, optional compression, body streamed
// with backpressure. If the backend body fails mid-way the client connection is destroyed, so the
// client sees an aborted response, never a truncated one that looks complete.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getContext } from '../request/context.js';
import { applyResponsePasses, type ResponsePassOptions } from '../response/passes.js';
import type { UpstreamResponse, WriteUpstream } from './types.js';

export type Compress = (req: IncomingMessage, upstream: UpstreamResponse) => UpstreamResponse;

export function createWriteUpstream(options: () => ResponsePassOptions, compress?: Compress): WriteUpstream {
  return function writeUpstream(res: ServerResponse, upstream: UpstreamResponse, extraHeaders?: Record<string, string | string[]>): Promise<void> {
    const req = res.req;
    const ctx = getContext(req);
    const up = compress ? compress(req, upstream) : upstream;
    const headers = applyResponsePasses(up.headers, { backendName: up.backend.name, httpVersion: req.httpVersion }, ctx, options());
    if (extraHeaders) for (const [k, v] of Object.entries(extraHeaders)) headers[k.toLowerCase()] = v;
    if (ctx) {
      ctx.backend = up.backend.name;
      ctx.retries = up.retries;
    }
    return new Promise<void>((resolve) => {
      if (res.destroyed) {
        // undici emits 'error' on an early destroy; without a listener it would crash the process.
        up.body.on('error', () => undefined);
        up.body.destroy();
        resolve();
        return;
      }
      res.writeHead(up.status, headers);
      const bodiless = req.method === 'HEAD' || up.status === 204 || up.status === 304 || (up.status >= 100 && up.status < 200);
      if (bodiless) {
        up.body.resume();
        up.body.once('error', () => undefined);
        res.once('close', () => resolve());
        res.end(() => resolve());
        return;
      }
      const body = up.body;
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        resolve();
      };
      if (ctx) {
        let bytes = 0;
        body.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          ctx.bytes = bytes;
        });
      }
      // pipe() rather than pipeline(): pipeline allocates an AbortController (and a DOMException
      // when it finishes) per response, measurable on the hot path.
      body.once('error', (err) => {
        // The backend died mid-body: cut the client connection so the response cannot look whole.
        res.destroy(err);
        done();
      });
      res.once('close', () => {
        if (!body.readableEnded) body.destroy();
        done();
      });
      body.pipe(res);
    });
  };
}
