// What every route gets: the app's clients (AppDeps) and the per-request state (RequestState).
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '@dramble/lib';
import type { Database } from '../db/database.js';
import type { ContentRepo } from '../content/repo.js';
import type { IdempotencyStore } from '../db/idempotency.js';
import type { Users } from '../auth/users.js';
import type { Sessions, Session } from '../auth/sessions.js';
import type { LoginLimiter } from '../auth/login-limiter.js';
import type { PageCache } from '../cache/page-cache.js';
import type { Purger } from '../cache/purge.js';
import type { InstanceRegistry } from '../cluster/instances.js';
import type { AppMetrics } from '../metrics.js';
import type { Viewer } from '../render/layout.js';

export interface AppDeps {
  instanceName: string;
  nodeName: string;
  pageCacheTtlSeconds: number;
  /** Express's `trust proxy`: the hop count or the proxies' addresses (config.ts). */
  trustProxy: number | string[];
  /** The canonical origin every absolute link is built from (never the request's Host). */
  publicUrl: string;
  /** Host names the app serves (routes/host-check.ts); others get 421. */
  declaredHosts: ReadonlySet<string>;
  /** Caps on /cluster/events streams: all at once, and per client address. */
  eventStreamMaxConnections: number;
  eventStreamMaxPerIp: number;
  logger: Logger;
  db: Database;
  redis: Redis;
  content: ContentRepo;
  /** Idempotency-Key records of the content API. */
  idempotency: IdempotencyStore;
  users: Users;
  sessions: Sessions;
  limiter: LoginLimiter;
  pageCache: PageCache;
  purger: Purger;
  instances: InstanceRegistry;
  metrics: AppMetrics;
  /** Topology changes, for the live /cluster stream. */
  onTopologyChange: Set<() => void>;
  /** Open event streams, ended on shutdown. */
  streams: Set<Response>;
}

export interface RequestState {
  session: Session | null;
  /** The session store could not be asked (Redis down). */
  redisDown: boolean;
  /** The public URL is https: cookies are Secure. */
  secureCookies: boolean;
  log: Logger;
}

export function state(res: Response): RequestState {
  return res.locals as unknown as RequestState;
}

export function viewerOf(res: Response): Viewer | null {
  const s = state(res).session;
  return s ? { name: s.user.name, csrf: s.csrf } : null;
}

export function parseCookies(req: { headers: IncomingHttpHeaders }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const k = part.slice(0, i).trim();
    try {
      out[k] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      /* ignore a malformed cookie */
    }
  }
  return out;
}

/** Set-Cookie with the attributes every cookie of ours carries. */
export function setCookie(_req: Request, res: Response, name: string, value: string, opts: { maxAgeSeconds?: number; path?: string; sameSite?: 'Lax' | 'Strict' } = {}): void {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${opts.path ?? '/'}`, 'HttpOnly', `SameSite=${opts.sameSite ?? 'Lax'}`];
  if (opts.maxAgeSeconds !== undefined) parts.push(`Max-Age=${opts.maxAgeSeconds}`);
  // The public URL decides, not req.secure: an Ingress in front may not forward X-Forwarded-Proto.
  if (state(res).secureCookies) parts.push('Secure');
  res.append('Set-Cookie', parts.join('; '));
}

export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

export const NO_STORE = 'private, no-store';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The balancer's request id when it sent a well-formed one, else a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Cache-Control for anonymous pages: the balancer may keep them `ttl` seconds and serve stale while refreshing or failing. */
export function publicCacheControl(ttl: number): string {
  return `public, max-age=0, s-maxage=${ttl}, stale-while-revalidate=${ttl}, stale-if-error=${Math.max(ttl * 10, 300)}`;
}

/**
 * CDN-Cache-Control (RFC 9213) for the same pages: the edge obeys it instead of Cache-Control, so
 * it gets the lifetime without s-maxage's implied proxy-revalidate (RFC 9111 §5.2.2.10) and keeps
 * its stale windows, while browsers still revalidate every time (max-age=0).
 */
export function edgeCacheControl(ttl: number): string {
  return `max-age=${ttl}, stale-while-revalidate=${ttl}, stale-if-error=${Math.max(ttl * 10, 300)}`;
}
