// The edge cache in front of the forwarding engine (an RFC 9111 shared cache, in the manner of
// nginx's proxy_cache + proxy_cache_use_stale + proxy_cache_lock): the orchestrator. decide.ts
// says which way a lookup goes, cacheability.ts what may be stored, fill.ts stores it; this file
// runs the exchange: serves entries, coalesces misses and revalidations, invalidates after unsafe
// methods and keeps the site up from stale copies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '@dramble/lib';
import type { FetchUpstream, InterimListener, OutgoingResponse, UpstreamResponse, WriteUpstream } from '../forward/types.js';
import { discardBody } from '../forward/upstream-body.js';
import { writeInterim } from '../forward/interim.js';
import { isUnsafe, requestVerdict, usableOnError, type Exchange } from './cacheability.js';
import type { CacheControl } from './cache-control.js';
import { decide, requestDirectives, requestStaleAllowanceMs } from './decide.js';
import { primaryKey, type PrimaryKey } from './key.js';
import { CacheStore, type CacheEntry, type PurgeKind } from './store.js';
import { Flights, type Flight } from './flight.js';
import { createCacheMetrics, type CacheResult } from './metrics.js';
import { CLIENT_CONDITIONALS, isNotModified, notModifiedHeaders, revalidationHeaders } from './conditional.js';
import { FILL_REQUEST, freshen, refreshInBackground, storableVerdict, teeIntoCache, withoutInternal, type FillDeps, type RefreshDeps, type Settle } from './fill.js';
import { invalidationTargets } from './invalidation.js';
import { answerFromEntry } from './answer.js';
import { cacheStatusHit, cacheStatusFwd } from './cache-status.js';
import type { CacheSettings } from './settings.js';

export type { CacheResult } from './metrics.js';
export { cacheAdminRoutes } from './admin.js';
export { cacheSettings, type CacheSettings } from './settings.js';

export type CacheLayerConfig = Pick<
  CacheSettings,
  'cache' | 'cacheMaxBytes' | 'cacheMaxObjectBytes' | 'cacheSessionCookies' | 'cacheDefaultStaleIfErrorSeconds' | 'cacheLockTimeoutMs' | 'cacheHeuristicMaxSeconds'
>;

export interface CacheLayerDeps {
  registry: Registry;
  logger: Logger;
  /** Clock in ms; tests pass a fake one to move past freshness without sleeping. */
  now?: (() => number) | undefined;
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
 * request cannot use the cache: credentials, OPTIONS/TRACE) or `lookup` (GET/HEAD, and the unsafe
 * methods, whose answers invalidate what the cache holds).
 */
export type CacheRoute = 'off' | 'bypass' | 'lookup';

export interface CacheLayer {
  readonly enabled: boolean;
  /**
   * Routes a request: `off` and `bypass` skip the cache's work (the server forwards them straight
   * through, with X-Cache: BYPASS for `bypass`, counted here); `lookup` goes to lookup().
   */
  route(req: IncomingMessage): CacheRoute;
  /**
   * Answers a request routed `lookup` from the cache or through `fetchUpstream`, always writing
   * with `writeUpstream` (so the core's response passes apply to hits too). Rejects with the error
   * of `fetchUpstream` when no usable stale copy exists; the caller writes its error page then.
   */
  lookup(req: IncomingMessage, res: ServerResponse, fetchUpstream: FetchUpstream, writeUpstream: WriteUpstream): Promise<CacheResult>;
  purge(request: PurgeRequest): number;
  clear(): number;
  /** Applies reloaded settings (SIGHUP); a smaller budget evicts at once, turning the cache off empties it. */
  reconfigure(config: CacheLayerConfig): void;
  stats(): CacheStats;
}

const EMPTY = Buffer.alloc(0);
/** A miss fills the cache with the whole representation; the client's validators are answered from it. */
const FILL = FILL_REQUEST;

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
  const policy = { defaultStaleIfErrorSeconds: config.cacheDefaultStaleIfErrorSeconds, heuristicMaxSeconds: config.cacheHeuristicMaxSeconds };
  const clientGone = (req: IncomingMessage, res: ServerResponse): boolean => res.destroyed || req.socket.destroyed;
  // Bumped by every purge and invalidation: a fill that started before one may carry removed content.
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
  const fill: FillDeps = { store, policy, clock, maxObjectBytes: () => config.cacheMaxObjectBytes, generation: () => generation, stored: updateGauges };
  const refresh: RefreshDeps = { ...fill, flights, logger };

  function route(req: IncomingMessage): CacheRoute {
    if (!config.cache) return 'off';
    // Unsafe methods come through the cache so their answers can invalidate it (RFC 9111 §4.4).
    if (isUnsafe(req.method)) return 'lookup';
    if (!requestVerdict(req, config.cacheSessionCookies).cacheable) {
      count('BYPASS');
      return 'bypass';
    }
    return 'lookup';
  }

  function lookup(req: IncomingMessage, res: ServerResponse, fetchUpstream: FetchUpstream, writeUpstream: WriteUpstream): Promise<CacheResult> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return unsafe(req, res, fetchUpstream, writeUpstream);
    const primary = primaryKey(req);
    const rcc = requestDirectives(req.headers);
    const entry = store.lookup(primary, req.headers);
    const since = entry ? clock() - entry.storedAt : 0;
    switch (decide(entry, rcc, since)) {
      case 'hit':
        return serve(req, res, entry!, 'HIT', cacheStatusHit(entry!, since), writeUpstream);
      case 'stale-hit':
        return serve(req, res, entry!, 'STALE', cacheStatusHit(entry!, since), writeUpstream);
      case 'stale-refresh':
        refreshInBackground(refresh, req, primary, entry!, fetchUpstream);
        return serve(req, res, entry!, 'STALE', cacheStatusHit(entry!, since), writeUpstream);
      case 'gateway-timeout':
        return gatewayTimeout(res, entry !== undefined, writeUpstream);
      case 'revalidate': {
        const why = rcc.noCache || rcc.maxAge !== undefined || rcc.minFresh !== undefined ? 'request' : 'stale';
        if (req.method === 'HEAD') return headRevalidate(req, res, entry!, rcc, why, fetchUpstream, writeUpstream);
        return fetchAndServe(req, res, primary, entry, rcc, why, fetchUpstream, writeUpstream, true);
      }
      case 'fetch':
        // A Range miss goes through untouched: the 206 is the client's business, never stored.
        if (req.headers.range !== undefined && req.method === 'GET') return passRange(req, res, fetchUpstream, writeUpstream);
        return fetchAndServe(req, res, primary, undefined, rcc, store.varyNamesFor(primary).length > 0 ? 'vary-miss' : 'uri-miss', fetchUpstream, writeUpstream, true);
    }
  }

  /**
   * Asks a backend for the resource: a miss (`fallback` undefined) or a revalidation of the stale
   * `fallback`, conditional when it has validators. Concurrent requests for one variant share one
   * backend request (the flight). The answer is stored when allowed while it streams to the client.
   */
  async function fetchAndServe(
    req: IncomingMessage,
    res: ServerResponse,
    primary: PrimaryKey,
    fallback: CacheEntry | undefined,
    rcc: Readonly<CacheControl>,
    fwd: string,
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
          return serve(req, res, landed, 'HIT', cacheStatusFwd(fwd, 'collapsed'), writeUpstream);
        }
        if (outcome === 'error' && fallback && staleOnError(fallback, rcc)) {
          return serve(req, res, fallback, 'STALE', cacheStatusFwd('stale', 'detail=error'), writeUpstream);
        }
        // Not storable, too slow or not our variant: this request goes to a backend itself.
        return fetchAndServe(req, res, primary, fallback, rcc, fwd, fetchUpstream, writeUpstream, false);
      }
      flight = flights.open(key);
    }
    const startGeneration = generation;
    const conditional = fallback ? revalidationHeaders(fallback.headers) : undefined;
    const requestTime = clock();
    let upstream: UpstreamResponse;
    try {
      // A HEAD miss fetches the GET so the entry can serve both (nginx's proxy_cache_convert_head).
      upstream = await fetchUpstream(req, conditional ? { ...FILL, headers: conditional, interim: interimTo(res) } : { ...FILL, interim: interimTo(res) });
    } catch (err) {
      flight?.settle('error');
      if (fallback && !clientGone(req, res) && staleOnError(fallback, rcc)) {
        logger.warn({ err, path: primary.path, host: primary.host }, 'backends failed; serving a stale copy');
        return serve(req, res, fallback, 'STALE', cacheStatusFwd('stale', 'detail=error'), writeUpstream);
      }
      throw err;
    }
    const exchange: Exchange = { requestTime, responseTime: clock() };
    if (upstream.status >= 500 && fallback && staleOnError(fallback, rcc)) {
      discardBody(upstream.body);
      flight?.settle('error');
      logger.warn({ status: upstream.status, backend: upstream.backend.name, path: primary.path }, 'backend answered 5xx; serving a stale copy');
      return serve(req, res, fallback, 'STALE', cacheStatusFwd('stale', `fwd-status=${upstream.status}`), writeUpstream);
    }
    if (upstream.status === 304 && fallback && conditional) {
      discardBody(upstream.body);
      const updated = freshen(fill, req, fallback, upstream, exchange);
      if (updated) {
        flight?.settle(store.lookup(primary, req.headers) === updated ? 'stored' : 'pass', updated);
        return serve(req, res, updated, 'HIT', cacheStatusFwd(fwd, 'fwd-status=304'), writeUpstream);
      }
      // A 304 about another representation: ask again, unconditionally.
      flight?.settle('pass');
      return fetchAndServe(req, res, primary, undefined, rcc, fwd, fetchUpstream, writeUpstream, false);
    }
    return storeOrPass(req, res, primary, upstream, exchange, fwd, rcc, startGeneration, (o, e) => flight?.settle(o, e), fallback, writeUpstream);
  }

  /** A full backend answer: stored while it streams when allowed, else passed on (and a stale entry it replaces removed). */
  async function storeOrPass(
    req: IncomingMessage,
    res: ServerResponse,
    primary: PrimaryKey,
    upstream: UpstreamResponse,
    exchange: Exchange,
    fwd: string,
    rcc: Readonly<CacheControl>,
    startGeneration: number,
    settle: Settle,
    replaced: CacheEntry | undefined,
    writeUpstream: WriteUpstream,
  ): Promise<CacheResult> {
    count('MISS');
    const verdict = rcc.noStore ? undefined : storableVerdict(fill, upstream, exchange);
    // The client's own validators, answered from the 200 the fill fetched without them.
    const notModified = upstream.status === 200 && hasConditional(req) && isNotModified(req.headers, upstream.headers);
    const status = `fwd-status=${upstream.status}`;
    if (!verdict) {
      // The resource stopped being cacheable: stop serving the old copy. A 5xx says nothing about that.
      if (replaced && upstream.status < 500) {
        store.remove(replaced.key);
        updateGauges();
      }
      settle(upstream.status >= 500 ? 'error' : 'pass');
      const extra = { 'x-cache': 'MISS', 'cache-status': cacheStatusFwd(fwd, status) };
      if (notModified) {
        discardBody(upstream.body);
        await writeUpstream(res, notModifiedFrom(upstream), extra);
      } else await writeUpstream(res, withoutInternal(upstream), extra);
      return 'MISS';
    }
    const tee = teeIntoCache(fill, req, primary, upstream, verdict, exchange, startGeneration, settle);
    const extra = { 'x-cache': 'MISS', 'cache-status': cacheStatusFwd(fwd, `${status}; stored`) };
    if (req.method === 'HEAD' || notModified) {
      // The client gets headers only; the GET body still flows into the cache.
      tee.resume();
      await writeUpstream(res, notModified ? notModifiedFrom(upstream) : { ...withoutInternal(upstream), body: EMPTY }, extra);
    } else {
      await writeUpstream(res, { ...withoutInternal(upstream), body: tee }, extra);
    }
    return 'MISS';
  }

  /**
   * A HEAD for a stale entry goes to the backend as HEAD (no body to fetch); a 200 that describes
   * the stored GET freshens it (RFC 9111 §4.3.5), one that does not removes it. The client gets
   * the backend's answer.
   */
  async function headRevalidate(
    req: IncomingMessage,
    res: ServerResponse,
    entry: CacheEntry,
    rcc: Readonly<CacheControl>,
    fwd: string,
    fetchUpstream: FetchUpstream,
    writeUpstream: WriteUpstream,
  ): Promise<CacheResult> {
    const requestTime = clock();
    let upstream: UpstreamResponse;
    try {
      upstream = await fetchUpstream(req, { drop: CLIENT_CONDITIONALS, interim: interimTo(res) });
    } catch (err) {
      if (!clientGone(req, res) && staleOnError(entry, rcc)) return serve(req, res, entry, 'STALE', cacheStatusFwd('stale', 'detail=error'), writeUpstream);
      throw err;
    }
    discardBody(upstream.body);
    if (upstream.status >= 500 && staleOnError(entry, rcc)) return serve(req, res, entry, 'STALE', cacheStatusFwd('stale', `fwd-status=${upstream.status}`), writeUpstream);
    if (upstream.status === 200) {
      const updated = freshen(fill, req, entry, upstream, { requestTime, responseTime: clock() });
      if (updated) return serve(req, res, updated, 'HIT', cacheStatusFwd(fwd, 'fwd-status=200'), writeUpstream);
    } else if (upstream.status < 500) {
      store.remove(entry.key);
      updateGauges();
    }
    count('MISS');
    await writeUpstream(res, { ...withoutInternal(upstream), body: EMPTY }, { 'x-cache': 'MISS', 'cache-status': cacheStatusFwd(fwd, `fwd-status=${upstream.status}`) });
    return 'MISS';
  }

  /** A Range request without a stored entry: forwarded as is, answered as the backend answers. */
  async function passRange(req: IncomingMessage, res: ServerResponse, fetchUpstream: FetchUpstream, writeUpstream: WriteUpstream): Promise<CacheResult> {
    const upstream = await fetchUpstream(req, { interim: interimTo(res) });
    count('MISS');
    await writeUpstream(res, withoutInternal(upstream), { 'x-cache': 'MISS', 'cache-status': cacheStatusFwd('uri-miss', `fwd-status=${upstream.status}; detail=range`) });
    return 'MISS';
  }

  /**
   * POST, PUT, DELETE, PATCH and other unsafe methods go to a backend; a non-error answer
   * invalidates the target URI and the same-origin Location and Content-Location (RFC 9111 §4.4).
   */
  async function unsafe(req: IncomingMessage, res: ServerResponse, fetchUpstream: FetchUpstream, writeUpstream: WriteUpstream): Promise<CacheResult> {
    count('BYPASS');
    const upstream = await fetchUpstream(req, { interim: interimTo(res) });
    if (upstream.status < 400) {
      let removed = 0;
      for (const key of invalidationTargets(req, upstream.headers)) removed += store.invalidate(key);
      // A fill already under way for one of them may carry what was just replaced.
      generation++;
      if (removed > 0) updateGauges();
    }
    await writeUpstream(res, withoutInternal(upstream), { 'x-cache': 'BYPASS', 'cache-status': cacheStatusFwd('method', `fwd-status=${upstream.status}`) });
    return 'BYPASS';
  }

  async function gatewayTimeout(res: ServerResponse, stored: boolean, writeUpstream: WriteUpstream): Promise<CacheResult> {
    count('MISS');
    const body = Buffer.from('Gateway Timeout: only-if-cached and no usable stored response\n');
    const answer: OutgoingResponse = { status: 504, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length), 'cache-control': 'no-store' }, body, backend: NO_BACKEND, retries: 0 };
    await writeUpstream(res, answer, { 'x-cache': 'MISS', 'cache-status': cacheStatusFwd(stored ? 'stale' : 'uri-miss', 'detail=only-if-cached') });
    return 'MISS';
  }

  /** A stale entry may answer for a failed backend: its own stale-if-error, or the client's (not past must-revalidate). */
  function staleOnError(entry: CacheEntry, rcc: Readonly<CacheControl>): boolean {
    return usableOnError(entry, clock() - entry.storedAt, entry.mustRevalidate || entry.noCache ? 0 : requestStaleAllowanceMs(rcc));
  }

  async function serve(req: IncomingMessage, res: ServerResponse, entry: CacheEntry, result: 'HIT' | 'STALE', cacheStatus: string, writeUpstream: WriteUpstream): Promise<CacheResult> {
    count(result);
    const age = String(Math.max(0, Math.floor((entry.ageMs + clock() - entry.storedAt) / 1000)));
    const extra = { 'x-cache': result, age, 'cache-status': cacheStatus };
    await writeUpstream(res, answerFromEntry(req.method, req.headers, entry), extra);
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
    reconfigure(next) {
      config = next;
      policy.defaultStaleIfErrorSeconds = next.cacheDefaultStaleIfErrorSeconds;
      policy.heuristicMaxSeconds = next.cacheHeuristicMaxSeconds;
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

const NO_BACKEND = { id: '', name: '' };

function hasConditional(req: IncomingMessage): boolean {
  return req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
}

function notModifiedFrom(upstream: UpstreamResponse): OutgoingResponse {
  return { status: 304, headers: notModifiedHeaders(upstream.headers), body: EMPTY, backend: upstream.backend, retries: upstream.retries };
}

/** Where the backend's 1xx responses go for this client (only misses and revalidations allocate it). */
function interimTo(res: ServerResponse): InterimListener {
  return (status, raw) => writeInterim(res, status, raw);
}
