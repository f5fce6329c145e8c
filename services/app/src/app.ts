// The express app: security headers, request logging and metrics, sessions, routes, error pages.
// createRequestListener puts the page-cache fast path (routes/cached-hit.ts) in front of it.
import type { RequestListener } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { DatabaseUnavailableError, PrimaryUnavailableError } from './db/errors.js';
import { ContentNotFoundError, SlugTakenError, VersionConflictError } from './content/errors.js';
import { SESSION_COOKIE } from './auth/sessions.js';
import { errorPage, notFoundPage } from './render/site-pages.js';
import { apiRoutes } from './routes/api.js';
import { authRoutes } from './routes/auth.js';
import { clusterRoutes } from './routes/cluster.js';
import { serveCachedHits } from './routes/cached-hit.js';
import { NO_STORE, parseCookies, requestIdOf, state, viewerOf, type AppDeps, type RequestState } from './routes/context.js';
import { editorRoutes } from './routes/editor.js';
import { computeSecurityHeaders } from './routes/security-headers.js';
import { hostVerdict } from './routes/host-check.js';
import { siteRoutes } from './routes/site.js';
import { refusalText } from './routes/writes-paused.js';

export type { AppDeps } from './routes/context.js';

/** The server's request handler: cache hits answered up front, everything else by the express app. */
export function createRequestListener(deps: AppDeps): RequestListener {
  const securityHeaders = securityHeadersFor(deps.publicUrl);
  return checkHost(deps, securityHeaders, serveCachedHits(deps, securityHeaders, createApp(deps, securityHeaders)));
}

/**
 * Helmet's set, plus HSTS when the public URL is https. The setting decides rather than
 * X-Forwarded-Proto, which an Ingress in front of the balancer may not pass on (RFC 6797 §7.2
 * forbids HSTS over plain http, which only a misconfigured public URL would cause).
 */
function securityHeadersFor(publicUrl: string): ReadonlyArray<readonly [string, string]> {
  const headers = computeSecurityHeaders();
  return publicUrl.startsWith('https:') ? [...headers, ['Strict-Transport-Security', `max-age=${HSTS_MAX_AGE_SECONDS}`]] : headers;
}

const HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600;

/** Crafted or foreign Host values are answered here, before the page cache or express sees them. */
function checkHost(deps: AppDeps, securityHeaders: ReadonlyArray<readonly [string, string]>, next: RequestListener): RequestListener {
  const fixed = [...securityHeaders.flat(), 'X-App-Instance', deps.instanceName, 'Cache-Control', NO_STORE, 'Content-Type', 'text/plain; charset=utf-8'];
  return (req, res) => {
    const verdict = hostVerdict(req.headers, deps.declaredHosts);
    if (verdict.ok) return next(req, res);
    deps.metrics.httpDuration.observe({ method: req.method ?? '', route: 'bad-host', status: String(verdict.status) }, 0);
    res.writeHead(verdict.status, [...fixed, 'X-Request-Id', requestIdOf(req.headers)]);
    res.end(`${verdict.message}\n`);
  };
}

export function createApp(deps: AppDeps, securityHeaders = securityHeadersFor(deps.publicUrl)): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.set('etag', 'strong');
  const secureCookies = deps.publicUrl.startsWith('https:');

  // Request id (the balancer's, else ours), per-request logger, latency histogram by route.
  app.use((req, res, next) => {
    const id = requestIdOf(req.headers);
    let log: RequestState['log'] | undefined;
    // The child logger is made on first use: most requests (cache hits) never log.
    Object.assign(res.locals, { session: null, redisDown: false, secureCookies } satisfies Omit<RequestState, 'log'>);
    Object.defineProperty(res.locals, 'log', { get: () => (log ??= deps.logger.child({ reqId: id })), enumerable: true });
    res.setHeader('X-Request-Id', id);
    res.setHeader('X-App-Instance', deps.instanceName);
    res.setHeader('Cache-Control', NO_STORE);
    for (const [name, value] of securityHeaders) res.setHeader(name, value);
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : req.path.startsWith('/static/') ? '/static/:file' : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      deps.metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      if (res.statusCode >= 500) state(res).log.warn({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request failed');
      else if (deps.logger.isLevelEnabled('debug')) state(res).log.debug({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'request');
    });
    next();
  });

  // Who is asking: a session cookie is looked up in Redis; without Redis everyone is anonymous.
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/static/') || req.path.startsWith('/api/')) return next();
    const id = parseCookies(req)[SESSION_COOKIE];
    if (!id) return next();
    try {
      state(res).session = await deps.sessions.get(id);
    } catch {
      state(res).redisDown = true;
    }
    next();
  });

  app.use(siteRoutes(deps));
  app.use(clusterRoutes(deps));
  app.use(authRoutes(deps));
  app.use(editorRoutes(deps));
  app.use('/api/v1', apiRoutes(deps));

  app.use((req: Request, res: Response) => {
    if (req.path.startsWith('/api/')) return void res.status(404).json({ error: 'not found' });
    res.status(404).type('html').send(notFoundPage(viewerOf(res)));
  });

  // Errors: named ones become their status; anything else is a 500 without details for the client.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const api = req.path.startsWith('/api/');
    const send = (status: number, title: string, message: string, extra: Record<string, unknown> = {}): void => {
      if (res.headersSent) return void res.destroy();
      res.status(status).setHeader('Cache-Control', NO_STORE);
      if (api) res.json({ error: title, message, ...extra });
      else res.type('html').send(errorPage(title, message, viewerOf(res)));
    };
    if (err instanceof PrimaryUnavailableError) {
      // Refused before anything was written, or (outcome unknown) a COMMIT that got no answer: the
      // second may have been saved, and saying "retry" without that would invite a duplicate.
      const text = refusalText(err);
      res.setHeader('Retry-After', '5');
      return send(503, text.error, api ? text.api : text.html);
    }
    if (err instanceof DatabaseUnavailableError) {
      res.setHeader('Retry-After', '5');
      return send(503, 'unavailable', 'The database cannot be reached right now. Please retry shortly.');
    }
    if (err instanceof ContentNotFoundError) return send(404, 'not found', err.message);
    if (err instanceof VersionConflictError) return send(409, 'conflict', err.message, { currentVersion: err.actual });
    if (err instanceof SlugTakenError) return send(409, 'conflict', err.message, { fields: { slug: ['is already used'] } });
    const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; type?: unknown };
    const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
    if (status >= 400 && status < 500 && e.expose === true) {
      const msg = e.type === 'entity.parse.failed' ? 'the body is not valid JSON' : e.type === 'entity.too.large' ? 'the body is too large' : 'bad request';
      return send(status, status === 413 ? 'too large' : 'bad request', msg);
    }
    state(res).log.error({ err }, 'unhandled error');
    send(500, 'Something went wrong', 'The page could not be shown. The error has been logged.');
  });

  return app;
}
