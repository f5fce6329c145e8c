// What the services' small admin APIs share on plain node:http (the admin listener routes by hand
// instead of through express: db-manager's whole API is four routes, and express with its body
// parsers and MIME tables costs ~2 MB of a 60 MB budget): the bearer-token check for mutating calls
// and a bounded JSON body reader.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A refusal with the status and message the caller answers with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly facts: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export type TokenCheck = 'ok' | 'unconfigured' | 'missing' | 'invalid';

/**
 * Checks `Authorization: Bearer <token>` against the configured token. The comparison is of SHA-256
 * digests, so it takes the same time whatever the length or content of the guess.
 */
export function checkBearerToken(req: IncomingMessage, token: string | undefined): TokenCheck {
  if (!token) return 'unconfigured';
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return 'missing';
  const given = createHash('sha256').update(m[1]!.trim()).digest();
  const wanted = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, wanted) ? 'ok' : 'invalid';
}

/** True when the request says it carries a body (a length other than 0, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  const declared = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0');
}

/**
 * Reads a JSON request body of at most `limitBytes`: undefined when there is none. A body that is not
 * declared as JSON is refused (415) rather than read as "no body": a form post must not start an
 * operation with defaults the caller did not choose. Too large: 413; not JSON: 400.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (!hasBody(req)) {
    req.resume();
    return Promise.resolve(undefined);
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !type.endsWith('+json')) {
    req.resume();
    return Promise.reject(new HttpError(415, 'request bodies must be JSON (Content-Type: application/json)'));
  }
  return readBodyBytes(req, limitBytes).then((bytes) => {
    const text = bytes.toString('utf8');
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
    }
  });
}

/** Reads a request body of at most `limitBytes` (413 beyond it; the rest is read and dropped). */
export function readBodyBytes(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limitBytes) chunks.push(c);
    });
    req.once('end', () => (size > limitBytes ? reject(new HttpError(413, `request body larger than ${limitBytes} bytes`)) : resolve(Buffer.concat(chunks))));
    req.once('error', reject);
  });
}
