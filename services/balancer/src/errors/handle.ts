// Turns a failed request into the client's answer, logged once here: client gone -> cut,
// body too large -> 413, unsendable -> 400, long-lived caps full -> 429/503, backend errors -> 502/503/504 pages, anything else -> 500.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@dramble/lib';
import { BodyTooLargeError, ClientGoneError, UnsendableRequestError } from '../forward/errors.js';
import { BackendError } from '../forward/types.js';
import type { BalancerMetrics } from '../metrics.js';
import type { RequestContext } from '../request/context.js';
import { LongLivedLimitError } from '../request/long-lived.js';
import { sendError } from './pages.js';

export type HandleError = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, err: unknown) => void;

export function createErrorHandler(logger: Logger, metrics: BalancerMetrics, retryAfterSeconds: () => number): HandleError {
  return (req, res, ctx, err) => {
    if (err instanceof ClientGoneError) {
      ctx.error = 'client gone';
      res.destroy();
      return;
    }
    if (err instanceof BodyTooLargeError) {
      metrics.rejected.inc({ reason: 'body-too-large' });
      sendError(req, res, 413, { requestId: ctx.id, close: true });
      return;
    }
    if (err instanceof UnsendableRequestError) {
      ctx.error = err.message;
      metrics.rejected.inc({ reason: 'unsendable' });
      sendError(req, res, 400, { requestId: ctx.id, close: true });
      return;
    }
    if (err instanceof LongLivedLimitError) {
      // The backend's event stream was cut (its body discarded) before any byte reached the client.
      ctx.error = err.message;
      metrics.rejected.inc({ reason: err.reason });
      sendError(req, res, err.status, { requestId: ctx.id, retryAfterSeconds: err.retryAfterSeconds, detail: 'Too many long-lived connections just now; please try again shortly.' });
      return;
    }
    if (err instanceof BackendError) {
      ctx.error = err.message;
      ctx.retries = err.retries;
      if (err.backend) ctx.backend ??= err.backend.name;
      logger.warn({ requestId: ctx.id, status: err.status, kind: err.kind, backend: err.backend?.id, retries: err.retries, err: err.cause ?? err }, 'request failed at the backend');
      sendError(req, res, err.status, { requestId: ctx.id, ...(err.status === 503 ? { retryAfterSeconds: retryAfterSeconds() } : {}) });
      return;
    }
    ctx.error = (err as Error)?.message ?? String(err);
    logger.error({ err, requestId: ctx.id }, 'request failed');
    sendError(req, res, 500, { requestId: ctx.id });
  };
}

/**
 * Node's parser refuses malformed requests before any handler runs (bad framing, header overflow,
 * header timeout); this answers them with a proper status instead of a silent close.
 */
export function createClientErrorHandler(logger: Logger, metrics: BalancerMetrics): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  return (err, socket) => {
    const code = err.code ?? '';
    if (code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason] =
      code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request'];
    metrics.rejected.inc({ reason: code || 'parse' });
    logger.debug({ code, status }, 'refused a malformed request');
    const body = `${status} ${reason}\n`;
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
  };
}
