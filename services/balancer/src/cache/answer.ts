// The response a stored entry gives a request (pure): 304 when the client's validators match
// (RFC 9110 §13.1), 206 or 416 for a single byte range from the complete body (§14), else the
// stored response with its Content-Length. Age, X-Cache and Cache-Status are the caller's.
import type { OutgoingResponse } from '../forward/types.js';
import { isNotModified, notModifiedHeaders } from './conditional.js';
import { ifRangeHolds, rangeAnswer } from './range.js';
import type { CacheEntry } from './store.js';

type Headers = Record<string, string | string[] | undefined>;

const EMPTY = Buffer.alloc(0);

export function answerFromEntry(method: string | undefined, headers: Headers, entry: CacheEntry): OutgoingResponse {
  const { backend } = entry;
  if (entry.status === 200 && (headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined) && isNotModified(headers, entry.headers)) {
    return { status: 304, headers: notModifiedHeaders(entry.headers), body: EMPTY, backend, retries: 0 };
  }
  const range = headers['range'];
  if (range !== undefined && entry.status === 200 && method === 'GET' && ifRangeHolds(headers, entry.headers)) {
    const length = entry.body.length;
    const answer = rangeAnswer(Array.isArray(range) ? range[0]! : range, length);
    if (answer.kind === 'partial') {
      const body = entry.body.subarray(answer.start, answer.end + 1);
      const h = { ...entry.headers, 'content-range': `bytes ${answer.start}-${answer.end}/${length}`, 'content-length': String(body.length) };
      return { status: 206, headers: h, body, backend, retries: 0 };
    }
    if (answer.kind === 'unsatisfiable') {
      return { status: 416, headers: { 'content-range': `bytes */${length}`, 'content-length': '0', ...notModifiedHeaders(entry.headers) }, body: EMPTY, backend, retries: 0 };
    }
  }
  // Content-Length belongs to the headers, not the extras: compression may still drop it.
  const h = entry.status !== 204 && entry.status !== 304 ? { ...entry.headers, 'content-length': String(entry.body.length) } : entry.headers;
  return { status: entry.status, headers: h, body: entry.body, backend, retries: 0 };
}
