// Long-lived responses: an event stream (text/event-stream, SSE) holds its client connection and
// a backend connection for as long as it runs. The public listener's responses are of a class
// that notices such a head as it is written, so it can be counted apart from short requests and
// refused (LongLivedLimitError, answered 429/503 by errors/handle.ts) when the caps are full.
import http from 'node:http';

export class LongLivedLimitError extends Error {
  constructor(
    readonly status: number,
    /** The rejected-requests reason label. */
    readonly reason: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`long-lived response refused (${reason})`);
    this.name = 'LongLivedLimitError';
  }
}

type Headers = http.OutgoingHttpHeaders | readonly unknown[] | undefined;

function eventStreamType(value: unknown): boolean {
  return typeof value === 'string' && value.length >= 17 && value.slice(0, 17).toLowerCase() === 'text/event-stream';
}

/** The head (a header map or Node's flat `[name, value, ...]` list) declares an event stream. */
export function isEventStream(headers: Headers): boolean {
  if (headers === undefined) return false;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] as unknown;
      if (typeof name === 'string' && name.length === 12 && name.toLowerCase() === 'content-type') return eventStreamType(headers[i + 1]);
    }
    return false;
  }
  const map = headers as http.OutgoingHttpHeaders;
  return eventStreamType(map['content-type'] ?? map['Content-Type']);
}

/** A ServerResponse class whose writeHead tells `onEventStream` (which may throw to refuse) about a 2xx event stream. */
export function responseClassNoticing(onEventStream: (res: http.ServerResponse) => void): typeof http.ServerResponse {
  const writeHead = http.ServerResponse.prototype.writeHead as (this: http.ServerResponse, statusCode: number, a: unknown, b: unknown) => http.ServerResponse;
  class NoticingResponse extends http.ServerResponse {
    // Named parameters, not a rest array: this runs for every response.
    override writeHead(statusCode: number, a?: unknown, b?: unknown): this {
      if (statusCode >= 200 && statusCode < 300) {
        const headers = (typeof a === 'string' ? b : a) as Headers;
        if (headers !== undefined ? isEventStream(headers) : eventStreamType(this.getHeader('content-type'))) onEventStream(this);
      }
      return writeHead.call(this, statusCode, a, b) as this;
    }
  }
  return NoticingResponse as unknown as typeof http.ServerResponse;
}
