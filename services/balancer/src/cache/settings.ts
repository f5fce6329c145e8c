// Settings of the edge cache, compression and rate limiting; merged into the balancer's table.
import { z } from 'zod';
import { defineSettings, setting, type ConfigOf } from '@dramble/lib';

const MB = 1024 * 1024;

export const cacheSettings = defineSettings({
  cache: { schema: setting.bool(true), env: 'BALANCER_CACHE', flag: 'cache', doc: 'Edge cache of GET/HEAD responses as RFC 9111 allows a shared cache (--no-cache turns it off)' },
  cacheMaxBytes: {
    schema: setting.int(32 * MB, 64 * 1024),
    env: 'BALANCER_CACHE_MAX_BYTES',
    flag: 'cache-max-bytes',
    defaultDoc: '33554432 (32 MiB)',
    doc: 'Memory budget of the cache in bytes; least recently used entries are evicted beyond it',
  },
  cacheMaxObjectBytes: {
    schema: setting.int(4 * MB, 1),
    env: 'BALANCER_CACHE_MAX_OBJECT_BYTES',
    flag: 'cache-max-object-bytes',
    defaultDoc: '4194304 (4 MiB)',
    doc: 'Largest body stored; larger responses are streamed through uncached',
  },
  cacheSessionCookies: {
    // dramble_session is the app's session cookie: an editor must never get the anonymous copy.
    schema: setting.list(z.string().min(1), ['dramble_session']),
    env: 'BALANCER_CACHE_SESSION_COOKIES',
    flag: 'cache-session-cookies',
    list: true,
    doc: 'Cookie names that mark a logged-in request; such requests bypass the cache (repeatable)',
  },
  cacheDefaultStaleIfErrorSeconds: {
    schema: setting.int(300),
    env: 'BALANCER_CACHE_DEFAULT_STALE_IF_ERROR_SECONDS',
    flag: 'cache-default-stale-if-error-seconds',
    doc: 'How long past freshness an entry still answers when every backend fails or answers 5xx, unless the response says otherwise (stale-if-error, must-revalidate)',
  },
  cacheHeuristicMaxSeconds: {
    schema: setting.int(300),
    env: 'BALANCER_CACHE_HEURISTIC_MAX_SECONDS',
    flag: 'cache-heuristic-max-seconds',
    doc: 'Longest heuristic lifetime (10% of the time since Last-Modified, RFC 9111 §4.2.2) given to a response without explicit freshness; 0 turns heuristics off',
  },
  cacheLockTimeoutMs: {
    schema: setting.int(5000, 1),
    env: 'BALANCER_CACHE_LOCK_TIMEOUT_MS',
    flag: 'cache-lock-timeout-ms',
    doc: 'How long concurrent misses for one URL wait for the first one before going to a backend themselves',
  },
  rateLimitRps: {
    schema: setting.number(0),
    env: 'BALANCER_RATE_LIMIT_RPS',
    flag: 'rate-limit-rps',
    doc: 'Requests per second allowed per client IP (token bucket refill rate); 0 turns rate limiting off',
  },
  rateLimitBurst: {
    schema: setting.int(20, 1),
    env: 'BALANCER_RATE_LIMIT_BURST',
    flag: 'rate-limit-burst',
    doc: 'Requests a client may make at once before the per-second rate applies (bucket size)',
  },
  compression: {
    schema: setting.bool(true),
    env: 'BALANCER_COMPRESSION',
    flag: 'compression',
    doc: 'Compress (brotli or gzip) text-like responses the backend sent uncompressed, when the client accepts it',
  },
  compressionMinBytes: {
    schema: setting.int(1024),
    env: 'BALANCER_COMPRESSION_MIN_BYTES',
    flag: 'compression-min-bytes',
    doc: 'Responses whose Content-Length is below this are sent uncompressed',
  },
});

export type CacheSettings = ConfigOf<typeof cacheSettings>;
