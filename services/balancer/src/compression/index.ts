// Compression of responses the backend sent uncompressed (brotli or gzip via node:zlib streams),
// when the client accepts it; nginx's gzip/brotli filters with the usual "don't" list.
import zlib from 'node:zlib';
import { pipeline } from 'node:stream';
import type { OutgoingResponse } from '../forward/types.js';
import { asReadable } from '../forward/upstream-body.js';

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

/**
 * Returns the response to send: compressed (Content-Encoding set, Content-Length dropped,
 * Vary: Accept-Encoding added, strong ETag weakened) or the same response untouched.
 */
export function maybeCompress(req: { method?: string | undefined; headers: Headers }, upstream: OutgoingResponse, options: CompressionOptions = {}): OutgoingResponse {
  const h = upstream.headers;
  const { status } = upstream;
  if (status < 200 || status === 204 || status === 206 || status === 304) return upstream;
  const encoding = first(h['content-encoding']);
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return upstream;
  if (!isCompressible(first(h['content-type']))) return upstream;
  // RFC 9111 §5.2.2.6: no-transform forbids changing the representation.
  const cc = h['cache-control'];
  if (cc !== undefined && /(^|,)\s*no-transform\s*(,|$)/i.test(Array.isArray(cc) ? cc.join(',') : cc)) return upstream;
  const length = first(h['content-length']);
  if (length !== undefined && Number(length) < (options.minBytes ?? 1024)) return upstream;

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
