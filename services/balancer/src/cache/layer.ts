// The edge cache in front of the forwarding engine (RFC 9111 shared cache, in the manner of nginx's
// proxy_cache + proxy_cache_use_stale + proxy_cache_lock): serves fresh entries, coalesces misses,
// tees bodies into memory as they stream to the client, and keeps the site up from stale copies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, pipeline } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Logger } from '@dramble/lib';
import type { FetchUpstream, UpstreamResponse, WriteUpstream } from '../forward/types.js';
import { asReadable, discardBody } from '../forward/upstream-body.js';
import { freshness, requestVerdict, responseVerdict, usableOnError, type ResponseVerdict } from './cacheability.js';
import { primaryKey, type PrimaryKey } from './key.js';
import { CacheStore, type CacheEntry, type PurgeKind } from './store.js';
import { parseCacheTags } from './tag-index.js';
import { Flights, type Flight } from './flight.js';
import { createCacheMetrics, type CacheResult } from './metrics.js';
import { isNotModified, notModifiedHeaders } from './conditional.js';
import type { CacheSettings } from './settings.js';

export type { CacheResult } from './metrics.js';
export { cacheAdminRoutes } from './admin.js';
export { cacheSettings, type CacheSettings } from './settings.js';

export type CacheLayerConfig = Pick<
  CacheSettings,
  'cache' | 'cacheMaxBytes' | 'cacheMaxObjectBytes' | 'cacheSessionCookies' | 'cacheDefaultStaleIfErrorSeconds' | 'cacheLockTimeoutMs'
>;

export interface CacheLayerDeps {
  registry: Registry;
  logger: Logger;
  /** Clock in ms; tests pass a fake one to move past freshness without sleeping. */
  now?: () => number;
}

export interface PurgeRequest {
  urls?: string[] | undefined;
  prefixes?: string[] | undefined;
  tags?: string[] | undefined;
}

export interface CacheStats {
  enabled: boolean;
  entries: number;
  bytes: number;
  maxBytes: number;
  maxObjectBytes: number;
  hits: number;
  misses: number;
  stale: number;
  bypass: number;
  /** hits + stale over every cacheable request; null before the first one. */
  hitRatio: number | null;
  evictions: number;
  purged: number;
  inFlight: number;
}

/**
 * Which way a request goes, decided before any cache work: `off` (the cache is off), `bypass` (the
 * request cannot use the cache: credentials, a method other than GET/HEAD) or `lookup`.
 */
export type CacheRoute = 'off' | 'bypass' | 'lookup';

export interface CacheLayer {
  readonly enabled: boolean;
  /**
   * Routes a request: `off` and `bypass` skip the cache's work (the server forwards them straight
   * through, with X-Cache: BYPASS for `bypass`, counted here); `lookup` goes to lookup().
   */
  route(req: IncomingMessage): CacheRoute;
  /** handle() for a request routed `lookup`: a cacheable GET or HEAD with the cache on. */
  lookup(req: IncomingMessage, res: ServerResponse, fetchUpstream: FetchUpstream, writeUpstream: WriteUpstream): Promise<CacheResult>;
  /**
   * Answers the request from the cache or through `fetchUpstream`, always writing with
   * `writeUpstream` (so the core's response passes apply to hits too). Rejects with the error of
   * `fetchUpstream` when no usable stale copy exists; the caller writes its error page then.
   */
  handle(req: IncomingMessage, res: ServerResponse, fetchUpstream: FetchUpstream, writeUpstream: WriteUpstream): Promise<CacheResult>;
  purge(request: PurgeRequest): number;
  clear(): number;
  /** Applies reloaded settings (SIGHUP); a smaller budget evicts at once, turning the cache off empties it. */
  reconfigure(config: CacheLayerConfig): void;
  stats(): CacheStats;
}

const EMPTY = Buffer.alloc(0);

/** Headers a cache keeps to itself: Cache-Tag is an instruction to us, not to browsers. */
const INTERNAL_HEADERS = ['cache-tag'];

export function createCacheLayer(initial: CacheLayerConfig, deps: CacheLayerDeps): CacheLayer {
  let config = initial;
  const { logger } = deps;
  const clock = deps.now ?? Date.now;
  const metrics = createCacheMetrics(deps.registry);
  const counts = { HIT: 0, MISS: 0, STALE: 0, BYPASS: 0, evictions: 0, purged: 0 };
  const store = new CacheStore(config.cacheMaxBytes, () => {
    counts.evictions++;
    metrics.evictions.inc();
  });
  const flights = new Flights<CacheEntry>();
  const policy = { defaultStaleIfErrorSeconds: config.cacheDefaultStaleIfErrorSeconds };
  const clientGone = (req: IncomingMessage, res: ServerResponse): boolean => res.destroyed || req.socket.destroyed;
  // Bumped by every purge: a fill that started before a purge may carry the purged content.
  let generation = 0;

  // Bound children: prom-client would hash a label object on every request otherwise.
  const counters = { HIT: metrics.requests.labels('HIT'), MISS: metrics.requests.labels('MISS'), STALE: metrics.requests.labels('STALE'), BYPASS: metrics.requests.labels('BYPASS') };
  const count = (result: CacheResult): void => {
    counts[result]++;
    counters[result].inc();
  };
  const updateGauges = (): void => {
    metrics.bytes.set(store.bytes);
    metrics.entries.set(store.entries);
  };
  updateGauges();

  function route(req: IncomingMessage): CacheRoute {
    if (!config.cache) return 'off';
    if (!requestVerdict(req, config.cacheSessionCookies).cacheable) {
      count('BYPASS');
      return 'bypass';
    }
    return 'lookup';
  }

  async function handle(req: IncomingMessage, res: ServerResponse, fetchUpstream: FetchUpstream, writeUpstream: WriteUpstream): Promise<CacheResult> {
    const way = route(req);
    if (way === 'off') {
      await writeUpstream(res, await fetchUpstream(req));
      return 'BYPASS';
    }
    if (way === 'bypass') {
      const upstream = await fetchUpstream(req);
      await writeUpstream(res, withoutInternal(upstream), { 'x-cache': 'BYPASS' });
      return 'BYPASS';
    }
    return lookup(req, res, fetchUpstream, writeUpstream);
  }

  async function lookup(req: IncomingMessage, res: ServerResponse, fetchUpstream: FetchUpstream, writeUpstream: WriteUpstream): Promise<CacheResult> {
    const primary = primaryKey(req);
    let entry = store.lookup(primary, req.headers);
    if (entry) {
      const since = clock() - entry.storedAt;
      const state = freshness(entry, since);
      if (state === 'fresh') return serve(req, res, entry, 'HIT', writeUpstream);
      if (state === 'stale-while-revalidate') {
        refreshInBackground(req, primary, fetchUpstream);
        return serve(req, res, entry, 'STALE', writeUpstream);
      }
      if (!usableOnError(entry, since)) {
        store.remove(entry.key);
        updateGauges();
        entry = undefined;
      }
    }
    return fetchAndServe(req, res, primary, entry, fetchUpstream, writeUpstream, true);
  }

  async function fetchAndServe(
    req: IncomingMessage,
    res: ServerResponse,
    primary: PrimaryKey,
    fallback: CacheEntry | undefined,
    fetchUpstream: FetchUpstream,
    writeUpstream: WriteUpstream,
    coalesce: boolean,
  ): Promise<CacheResult> {
    let flight: Flight<CacheEntry> | undefined;
    if (coalesce) {
      const key = store.variantKey(primary, req.headers);
      const leader = flights.get(key);
      if (leader) {
        const { outcome, value: landed } = await leader.wait(config.cacheLockTimeoutMs);
        // The response fetched while we waited answers us too, even if it is already stale
        // (max-age=0 with stale-if-error): it is as new as any a backend could give now.
        if (outcome === 'stored' && landed && landed.key === store.variantKey(primary, req.headers)) {
          return serve(req, res, landed, 'HIT', writeUpstream);
        }
        if (outcome === 'error' && fallback && usableOnError(fallback, clock() - fallback.storedAt)) {
          return serve(req, res, fallback, 'STALE', writeUpstream);
        }
        // Not storable, too slow or not our variant: this request goes to a backend itself.
        return fetchAndServe(req, res, primary, fallback, fetchUpstream, writeUpstream, false);
      }
      flight = flights.open(key);
    }
    const startGeneration = generation;
    let upstream: UpstreamResponse;
    try {
      // A HEAD miss fetches the GET so the entry can serve both (nginx's proxy_cache_convert_head).
      upstream = await fetchUpstream(req, req.method === 'HEAD' ? { method: 'GET' } : undefined);
    } catch (err) {
      flight?.settle('error');
      if (fallback && !clientGone(req, res) && usableOnError(fallback, clock() - fallback.storedAt)) {
        logger.warn({ err, path: primary.path, host: primary.host }, 'backends failed; serving a stale copy');
        return serve(req, res, fallback, 'STALE', writeUpstream);
      }
      throw err;
    }
    if (upstream.status >= 500 && fallback && usableOnError(fallback, clock() - fallback.storedAt)) {
      discardBody(upstream.body);
      flight?.settle('error');
      logger.warn({ status: upstream.status, backend: upstream.backend.name, path: primary.path }, 'backend answered 5xx; serving a stale copy');
      return serve(req, res, fallback, 'STALE', writeUpstream);
    }
    count('MISS');
    const verdict = responseVerdict(upstream, policy);
    const declared = contentLength(upstream.headers);
    if (!verdict.storable || (declared !== undefined && declared > config.cacheMaxObjectBytes)) {
      flight?.settle(upstream.status >= 500 ? 'error' : 'pass');
      await writeUpstream(res, withoutInternal(upstream), { 'x-cache': 'MISS' });
      return 'MISS';
    }
    const tee = teeIntoCache(req, primary, upstream, verdict, startGeneration, (o, e) => flight?.settle(o, e));
    if (req.method === 'HEAD') {
      // The client gets headers only; the GET body still flows into the cache.
      tee.resume();
      await writeUpstream(res, { ...withoutInternal(upstream), body: EMPTY }, { 'x-cache': 'MISS' });
    } else {
      await writeUpstream(res, { ...withoutInternal(upstream), body: tee }, { 'x-cache': 'MISS' });
    }
    return 'MISS';
  }

  /**
   * Passes the body through unchanged while keeping a copy; the copy is stored only when the
   * backend's body ended cleanly, at its declared length, within the object size limit.
   */
  function teeIntoCache(
    req: IncomingMessage,
    primary: PrimaryKey,
    upstream: UpstreamResponse,
    verdict: Extract<ResponseVerdict, { storable: true }>,
    startGeneration: number,
    settle: (o: 'stored' | 'pass' | 'error', entry?: CacheEntry) => void,
  ): Transform {
    const arrivedAt = clock();
    const declared = contentLength(upstream.headers);
    const chunks: Buffer[] = [];
    let bytes = 0;
    let keep = true;
    const tee = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        if (keep) {
          bytes += chunk.length;
          if (bytes > config.cacheMaxObjectBytes) {
            keep = false;
            chunks.length = 0;
            settle('pass');
          } else chunks.push(chunk);
        }
        callback(null, chunk);
      },
      flush(callback) {
        if (keep && (declared === undefined || declared === bytes) && generation === startGeneration) {
          const { headers, tags } = storedHeaders(upstream.headers);
          const stored = store.put(
            {
              primary,
              varyNames: verdict.varyNames,
              status: upstream.status,
              headers,
              body: Buffer.concat(chunks, bytes),
              backend: upstream.backend,
              storedAt: arrivedAt,
              tags,
              freshMs: verdict.freshMs,
              ageMs: verdict.ageMs,
              staleWhileRevalidateMs: verdict.staleWhileRevalidateMs,
              staleIfErrorMs: verdict.staleIfErrorMs,
            },
            req.headers,
          );
          updateGauges();
          if (stored) settle('stored', stored);
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

  /** stale-while-revalidate: one background fetch per entry refreshes it while clients get the stale copy. */
  function refreshInBackground(req: IncomingMessage, primary: PrimaryKey, fetchUpstream: FetchUpstream): void {
    const key = store.variantKey(primary, req.headers);
    if (flights.get(key)) return;
    const flight = flights.open(key);
    const startGeneration = generation;
    fetchUpstream(req, { method: 'GET' }).then(
      (upstream) => {
        const verdict = responseVerdict(upstream, policy);
        const declared = contentLength(upstream.headers);
        if (!verdict.storable || (declared !== undefined && declared > config.cacheMaxObjectBytes)) {
          discardBody(upstream.body);
          // The resource stopped being cacheable: stop serving the old copy. A 5xx or a 304 (the
          // client's own conditional request) says nothing about that.
          if (upstream.status < 500 && upstream.status !== 304) {
            store.remove(key);
            updateGauges();
          }
          flight.settle(upstream.status >= 500 ? 'error' : 'pass');
          return;
        }
        teeIntoCache(req, primary, upstream, verdict, startGeneration, (o, e) => flight.settle(o, e)).resume();
      },
      (err: unknown) => {
        flight.settle('error');
        logger.warn({ err, path: primary.path, host: primary.host }, 'background refresh failed; keeping the stale copy');
      },
    );
  }

  async function serve(req: IncomingMessage, res: ServerResponse, entry: CacheEntry, result: 'HIT' | 'STALE', writeUpstream: WriteUpstream): Promise<CacheResult> {
    count(result);
    const age = String(Math.max(0, Math.floor((entry.ageMs + clock() - entry.storedAt) / 1000)));
    const extra = { 'x-cache': result, age };
    if (entry.status === 200 && isNotModified(req.headers, entry.headers)) {
      await writeUpstream(res, { status: 304, headers: notModifiedHeaders(entry.headers), body: EMPTY, backend: entry.backend, retries: 0 }, extra);
      return result;
    }
    // Content-Length belongs to the headers, not the extras: compression may still drop it.
    const headers = entry.status !== 204 && entry.status !== 304 ? { ...entry.headers, 'content-length': String(entry.body.length) } : entry.headers;
    await writeUpstream(res, { status: entry.status, headers, body: entry.body, backend: entry.backend, retries: 0 }, extra);
    return result;
  }

  function purge(request: PurgeRequest): number {
    generation++;
    let total = 0;
    const run = (kind: PurgeKind, values: string[] | undefined): void => {
      for (const v of values ?? []) {
        const n = store.purge(kind, v);
        if (n > 0) metrics.purged.inc({ by: kind }, n);
        total += n;
      }
    };
    run('url', request.urls);
    run('prefix', request.prefixes);
    run('tag', request.tags);
    counts.purged += total;
    updateGauges();
    logger.info({ urls: request.urls?.length ?? 0, prefixes: request.prefixes?.length ?? 0, tags: request.tags, purged: total }, 'cache purged');
    return total;
  }

  return {
    get enabled() {
      return config.cache;
    },
    route,
    lookup,
    handle,
    reconfigure(next) {
      config = next;
      policy.defaultStaleIfErrorSeconds = next.cacheDefaultStaleIfErrorSeconds;
      store.resize(next.cacheMaxBytes);
      if (!next.cache) store.clear();
      updateGauges();
    },
    purge,
    clear() {
      generation++;
      const n = store.clear();
      updateGauges();
      return n;
    },
    stats() {
      const cacheable = counts.HIT + counts.MISS + counts.STALE;
      return {
        enabled: config.cache,
        entries: store.entries,
        bytes: store.bytes,
        maxBytes: store.maxBytes,
        maxObjectBytes: config.cacheMaxObjectBytes,
        hits: counts.HIT,
        misses: counts.MISS,
        stale: counts.STALE,
        bypass: counts.BYPASS,
        hitRatio: cacheable === 0 ? null : (counts.HIT + counts.STALE) / cacheable,
        evictions: counts.evictions,
        purged: counts.purged,
        inFlight: flights.size,
      };
    },
  };
}

function withoutInternal(upstream: UpstreamResponse): UpstreamResponse {
  if (!INTERNAL_HEADERS.some((h) => h in upstream.headers)) return upstream;
  const headers = { ...upstream.headers };
  for (const h of INTERNAL_HEADERS) delete headers[h];
  return { ...upstream, headers };
}

function storedHeaders(h: Record<string, string | string[]>): { headers: Record<string, string | string[]>; tags: string[] } {
  const headers = { ...h };
  const tags = parseCacheTags(headers['cache-tag']);
  for (const name of [...INTERNAL_HEADERS, 'age', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']) delete headers[name];
  return { headers, tags };
}

function contentLength(h: Record<string, string | string[]>): number | undefined {
  const v = h['content-length'];
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined;
}
