// Compression of responses the backend sent uncompressed (brotli or gzip via node:zlib streams),
// when the client accepts it; nginx's gzip/brotli filters with the usual "don't" list.
import zlib from 'node:zlib';
import { pipeline } from 'node:stream';
import type { OutgoingResponse } from '../forward/types.js';
import { asReadable } from '../forward/upstream-body.js';
import { headerName, headerValue } from '../request/header-strings.js';

type Headers = Record<string, string | string[] | undefined>;

export interface CompressionOptions {
  /** Known-length bodies below this are not worth the CPU and the framing overhead. */
  minBytes?: number;
  /** Brotli quality 0-11; 4 is the usual speed/size point for dynamic content. */
  brotliQuality?: number;
  /** gzip level 1-9. */
  gzipLevel?: number;
}

export type Coding = 'br' | 'gzip';

/**
 * Text-like types compress well. text/event-stream is left alone on purpose: a compressor buffers
 * and would hold server-sent events back.
 */
export function isCompressible(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'text/event-stream') return false;
  if (type.startsWith('text/')) return true;
  if (type.endsWith('+json') || type.endsWith('+xml')) return true;
  return COMPRESSIBLE.has(type);
}

const COMPRESSIBLE = new Set([
  'application/json',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/xml',
  'application/xhtml+xml',
  'application/wasm',
  'application/x-ndjson',
  'application/graphql-response+json',
  'image/svg+xml',
  'image/x-icon',
  'image/vnd.microsoft.icon',
  'font/ttf',
  'font/otf',
  'application/vnd.ms-fontobject',
]);

/** Picks the client's preferred coding we support (RFC 9110 §12.5.3); brotli wins ties. */
export function negotiateEncoding(acceptEncoding: string | string[] | undefined): Coding | undefined {
  if (acceptEncoding === undefined) return undefined;
  const text = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  const q = new Map<string, number>();
  for (const part of text.split(',')) {
    const [coding, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!coding) continue;
    const qp = params.find((p) => p.startsWith('q='));
    const value = qp === undefined ? 1 : Number(qp.slice(2));
    q.set(coding, Number.isFinite(value) ? value : 0);
  }
  const star = q.get('*');
  const br = q.get('br') ?? star ?? 0;
  const gzip = q.get('gzip') ?? q.get('x-gzip') ?? star ?? 0;
  if (br <= 0 && gzip <= 0) return undefined;
  return br >= gzip ? 'br' : 'gzip';
}

/** Adds a field name to Vary unless it (or `*`) is already there. */
function addVary(headers: Record<string, string | string[]>, name: string): void {
  const current = headers['vary'];
  const text = Array.isArray(current) ? current.join(', ') : (current ?? '');
  const names = text
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n);
  if (names.includes('*') || names.includes(name.toLowerCase())) return;
  headers['vary'] = text.trim() ? `${text}, ${name}` : name;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** What decides whether a response is compressed at all, whatever the client accepts. */
export interface CompressionFacts {
  status: number;
  contentEncoding: string | undefined;
  contentType: string | undefined;
  /** Every Cache-Control field line, joined with commas. */
  cacheControl: string | undefined;
  contentLength: string | undefined;
}

/** True when compression leaves the response as it is (maybeCompress returns it untouched). */
export function leftAlone(f: CompressionFacts, minBytes: number): boolean {
  if (f.status < 200 || f.status === 204 || f.status === 206 || f.status === 304) return true;
  if (f.contentEncoding !== undefined && f.contentEncoding.trim().toLowerCase() !== 'identity') return true;
  if (!isCompressible(f.contentType)) return true;
  // RFC 9111 §5.2.2.6: no-transform forbids changing the representation.
  if (f.cacheControl !== undefined && /(^|,)\s*no-transform\s*(,|$)/i.test(f.cacheControl)) return true;
  return f.contentLength !== undefined && Number(f.contentLength) < minBytes;
}

/**
 * leftAlone over undici's raw header list (name and value Buffers in turn), before any header map
 * is built: the pass-through path writes such a response itself (forward/pass-through.ts).
 */
export function rawLeftAlone(status: number, raw: Buffer[], minBytes: number): boolean {
  const facts: CompressionFacts = { status, contentEncoding: undefined, contentType: undefined, cacheControl: undefined, contentLength: undefined };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = headerName(raw[i]!);
    const value = headerValue(raw[i + 1]!);
    if (name === 'content-encoding') facts.contentEncoding ??= value;
    else if (name === 'content-type') facts.contentType ??= value;
    else if (name === 'content-length') facts.contentLength ??= value;
    else if (name === 'cache-control') facts.cacheControl = facts.cacheControl === undefined ? value : `${facts.cacheControl},${value}`;
  }
  return leftAlone(facts, minBytes);
}

/**
 * Returns the response to send: compressed (Content-Encoding set, Content-Length dropped,
 * Vary: Accept-Encoding added, strong ETag weakened) or the same response untouched.
 */
export function maybeCompress(req: { method?: string | undefined; headers: Headers }, upstream: OutgoingResponse, options: CompressionOptions = {}): OutgoingResponse {
  const h = upstream.headers;
  const cc = h['cache-control'];
  const length = first(h['content-length']);
  const facts = { status: upstream.status, contentEncoding: first(h['content-encoding']), contentType: first(h['content-type']), cacheControl: Array.isArray(cc) ? cc.join(',') : cc, contentLength: length };
  if (leftAlone(facts, options.minBytes ?? 1024)) return upstream;

  const headers = { ...h };
  addVary(headers, 'Accept-Encoding');
  const coding = negotiateEncoding(req.headers['accept-encoding']);
  if (!coding) return { ...upstream, headers };

  headers['content-encoding'] = coding;
  delete headers['content-length'];
  const etag = first(headers['etag']);
  // The compressed bytes are a different representation: a strong validator no longer applies.
  if (etag !== undefined && !etag.startsWith('W/')) headers['etag'] = `W/${etag}`;

  const sizeHint = length !== undefined ? Number(length) : undefined;
  const compressor =
    coding === 'br'
      ? zlib.createBrotliCompress({
          params: {
            [zlib.constants.BROTLI_PARAM_QUALITY]: options.brotliQuality ?? 4,
            [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
            ...(sizeHint !== undefined ? { [zlib.constants.BROTLI_PARAM_SIZE_HINT]: sizeHint } : {}),
          },
        })
      : zlib.createGzip({ level: options.gzipLevel ?? 5 });
  if (Buffer.isBuffer(upstream.body)) compressor.end(upstream.body);
  // An upstream error destroys the compressor too, so the client sees an aborted response.
  else pipeline(asReadable(upstream.body), compressor, () => {});
  return { ...upstream, headers, body: compressor };
}

/** `maybeCompress` bound to the balancer's settings; a no-op when compression is off. */
export function createCompressor(config: { compression: boolean; compressionMinBytes: number }): (
  req: { method?: string | undefined; headers: Headers },
  upstream: OutgoingResponse,
) => OutgoingResponse {
  if (!config.compression) return (_req, upstream) => upstream;
  return (req, upstream) => maybeCompress(req, upstream, { minBytes: config.compressionMinBytes });
}
