// The fill path: a backend's answer going into the store. The body is teed into memory as it
// streams to the client; a 304 or a HEAD answer freshens the stored headers instead; the
// stale-while-revalidate refresh does either in the background. All ask
// cacheability.ts's responseVerdict, so a response is judged by one rule whichever way it came.
import type { IncomingMessage } from 'node:http';
import { Transform, pipeline } from 'node:stream';
import type { Logger } from '@dramble/lib';
import type { FetchUpstream, UpstreamResponse } from '../forward/types.js';
import { asReadable, discardBody } from '../forward/upstream-body.js';
import type { Flights } from './flight.js';
import { responseVerdict, type Exchange, type ResponsePolicy, type ResponseVerdict } from './cacheability.js';
import { CLIENT_CONDITIONALS, describesStored, revalidationHeaders, updatedHeaders } from './conditional.js';
import type { PrimaryKey } from './key.js';
import type { CacheEntry, CacheStore } from './store.js';
import { parseCacheTags } from './tag-index.js';

export type StorableVerdict = Extract<ResponseVerdict, { storable: true }>;
export type Settle = (outcome: 'stored' | 'pass' | 'error', entry?: CacheEntry) => void;

/** Headers a cache keeps to itself: Cache-Tag is an instruction to us, not to browsers. */
export const INTERNAL_HEADERS = ['cache-tag'];

/** Never part of a stored response: recomputed on every answer, or hop-by-hop. */
const NOT_STORED = [...INTERNAL_HEADERS, 'age', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'x-cache', 'cache-status'];

export interface FillDeps {
  store: CacheStore;
  policy: ResponsePolicy;
  clock: () => number;
  maxObjectBytes: () => number;
  /** Purge/invalidation generation: a fill that began before one may carry what it removed. */
  generation: () => number;
  stored: () => void;
}

/** The stored form of a backend's headers: without what is never stored and the fields private=/no-cache= named. */
export function storedHeaders(h: Record<string, string | string[]>, omit: readonly string[]): { headers: Record<string, string | string[]>; tags: string[] } {
  const headers = { ...h };
  const tags = parseCacheTags(headers['cache-tag']);
  for (const name of NOT_STORED) delete headers[name];
  for (const name of omit) delete headers[name];
  return { headers, tags };
}

export function withoutInternal(upstream: UpstreamResponse): UpstreamResponse {
  if (!INTERNAL_HEADERS.some((h) => h in upstream.headers)) return upstream;
  const headers = { ...upstream.headers };
  for (const h of INTERNAL_HEADERS) delete headers[h];
  return { ...upstream, headers };
}

export function contentLength(h: Record<string, string | string[]>): number | undefined {
  const v = h['content-length'];
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined;
}

/** The verdict for a backend answer, or undefined when it is not to be stored (including too large by its declared length). */
export function storableVerdict(deps: FillDeps, upstream: UpstreamResponse, exchange: Exchange): StorableVerdict | undefined {
  const verdict = responseVerdict(upstream, deps.policy, exchange);
  if (!verdict.storable) return undefined;
  const declared = contentLength(upstream.headers);
  if (declared !== undefined && declared > deps.maxObjectBytes()) return undefined;
  return verdict;
}

/**
 * Passes the body through unchanged while keeping a copy; the copy is stored only when the
 * backend's body ended cleanly, at its declared length, within the object size limit, and no
 * purge or invalidation happened meanwhile.
 */
export function teeIntoCache(
  deps: FillDeps,
  req: IncomingMessage,
  primary: PrimaryKey,
  upstream: UpstreamResponse,
  verdict: StorableVerdict,
  exchange: Exchange,
  startGeneration: number,
  settle: Settle,
): Transform {
  const declared = contentLength(upstream.headers);
  const maxObject = deps.maxObjectBytes();
  const chunks: Buffer[] = [];
  let bytes = 0;
  let keep = true;
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (keep) {
        bytes += chunk.length;
        if (bytes > maxObject) {
          keep = false;
          chunks.length = 0;
          settle('pass');
        } else chunks.push(chunk);
      }
      callback(null, chunk);
    },
    flush(callback) {
      if (keep && (declared === undefined || declared === bytes) && deps.generation() === startGeneration) {
        const entry = put(deps, req, primary, upstream.status, upstream.headers, Buffer.concat(chunks, bytes), upstream.backend, verdict, exchange.responseTime);
        if (entry) settle('stored', entry);
        else settle('pass');
      } else settle('pass');
      chunks.length = 0;
      callback();
    },
  });
  // An upstream error destroys the tee (the client sees an aborted response) and nothing is
  // stored; a client that goes away destroys the tee and with it the upstream body.
  pipeline(asReadable(upstream.body), tee, (err) => {
    if (err) settle('pass');
  });
  return tee;
}

function put(
  deps: FillDeps,
  req: IncomingMessage,
  primary: PrimaryKey,
  status: number,
  raw: Record<string, string | string[]>,
  body: Buffer,
  backend: { id: string; name: string },
  verdict: StorableVerdict,
  storedAt: number,
): CacheEntry | undefined {
  const { headers, tags } = storedHeaders(raw, verdict.omit);
  const entry = deps.store.put(
    {
      primary,
      varyNames: verdict.varyNames,
      status,
      headers,
      body,
      backend,
      storedAt,
      tags,
      freshMs: verdict.freshMs,
      ageMs: verdict.ageMs,
      staleWhileRevalidateMs: verdict.staleWhileRevalidateMs,
      staleIfErrorMs: verdict.staleIfErrorMs,
      noCache: verdict.noCache,
      mustRevalidate: verdict.mustRevalidate,
    },
    req.headers,
  );
  deps.stored();
  return entry;
}

/**
 * A 304 to our revalidation, or a 200 to a HEAD (RFC 9111 §4.3.4, §4.3.5): when it describes
 * the stored response, its fields replace the stored ones (but for those §3.2 excludes) and the
 * entry's age starts again from this answer. Returns the entry to answer with (stored, or only
 * for this request when the update made it unstorable), or undefined when the answer is about
 * another representation; either way an entry that can no longer be used is removed.
 */
export function freshen(deps: FillDeps, req: IncomingMessage, entry: CacheEntry, answer: UpstreamResponse, exchange: Exchange): CacheEntry | undefined {
  if (!describesStored(answer.headers, entry.headers)) {
    deps.store.remove(entry.key);
    deps.stored();
    return undefined;
  }
  // Cache-Tag travels with every answer; the stored copy keeps its own when the 304 has none.
  const merged = updatedHeaders(entry.tags.length > 0 ? { ...entry.headers, 'cache-tag': entry.tags.join(', ') } : entry.headers, answer.headers);
  const verdict = responseVerdict({ status: entry.status, headers: merged }, deps.policy, exchange);
  if (!verdict.storable) {
    deps.store.remove(entry.key);
    deps.stored();
    const { headers } = storedHeaders(merged, []);
    return { ...entry, headers, storedAt: exchange.responseTime, freshMs: 0, ageMs: 0 };
  }
  return put(deps, req, entry.primary, entry.status, merged, entry.body, entry.backend, verdict, exchange.responseTime) ?? entry;
}

export interface RefreshDeps extends FillDeps {
  flights: Flights<CacheEntry>;
  logger: Logger;
}

/** What a fill asks the backend for: the whole representation, without the client's validators or Range. */
export const FILL_REQUEST = { method: 'GET', drop: CLIENT_CONDITIONALS } as const;

/**
 * stale-while-revalidate: one background revalidation per entry (conditional when it has
 * validators) while clients get the stale copy; a 304 freshens it, a storable answer replaces
 * it, an answer that is not storable (but for a 5xx) removes it.
 */
export function refreshInBackground(deps: RefreshDeps, req: IncomingMessage, primary: PrimaryKey, entry: CacheEntry, fetchUpstream: FetchUpstream): void {
  const { store, flights, clock, logger } = deps;
  const key = store.variantKey(primary, req.headers);
  if (flights.get(key)) return;
  const flight = flights.open(key);
  const startGeneration = deps.generation();
  const conditional = revalidationHeaders(entry.headers);
  const requestTime = clock();
  fetchUpstream(req, conditional ? { ...FILL_REQUEST, headers: conditional } : FILL_REQUEST).then(
    (upstream) => {
      const exchange: Exchange = { requestTime, responseTime: clock() };
      if (upstream.status === 304 && conditional) {
        discardBody(upstream.body);
        const updated = freshen(deps, req, entry, upstream, exchange);
        flight.settle(updated && store.lookup(primary, req.headers) === updated ? 'stored' : 'pass', updated);
        return;
      }
      const verdict = storableVerdict(deps, upstream, exchange);
      if (!verdict) {
        discardBody(upstream.body);
        if (upstream.status < 500) {
          store.remove(key);
          deps.stored();
        }
        flight.settle(upstream.status >= 500 ? 'error' : 'pass');
        return;
      }
      teeIntoCache(deps, req, primary, upstream, verdict, exchange, startGeneration, (o, e) => flight.settle(o, e)).resume();
    },
    (err: unknown) => {
      flight.settle('error');
      logger.warn({ err, path: primary.path, host: primary.host }, 'background refresh failed; keeping the stale copy');
    },
  );
}
