// Login, logout and logout-everywhere. Sessions live in Redis, so without Redis login is 503.
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { CSRF_COOKIE, CSRF_FIELD, csrfMatches, newCsrfToken } from '../auth/csrf.js';
import { DUMMY_HASH, verifyPassword } from '../auth/password.js';
import { SESSION_COOKIE } from '../auth/sessions.js';
import { normalizeEmail } from '../auth/users.js';
import { loginPage } from '../render/editor-pages.js';
import { errorPage } from '../render/site-pages.js';
import { clientIp, parseCookies, setCookie, state, viewerOf, type AppDeps } from './context.js';

function unavailable(res: Response): void {
  res.status(503).setHeader('Retry-After', '30');
  res.type('html').send(loginPage({ csrf: '', unavailable: true }));
}

/** Redirects to /login when nobody is signed in; 503 when sessions cannot be checked. */
export function requireSession(req: Request, res: Response, next: NextFunction): void {
  const st = state(res);
  if (st.session) return next();
  if (st.redisDown) return unavailable(res);
  if (req.method === 'GET') return void res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
  res.status(401).type('html').send(errorPage('Not signed in', 'Please log in again; your session has ended.'));
}

/** Every form a signed-in user posts carries the session's CSRF token. */
export function requireCsrf(req: Request, res: Response, next: NextFunction): void {
  const s = state(res).session;
  const given = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
  if (s && csrfMatches(s.csrf, given)) return next();
  res.status(403).type('html').send(errorPage('Form expired', 'This form could not be verified (missing or wrong CSRF token). Reload the page and try again.', viewerOf(res)));
}

function safeNext(v: unknown): string {
  return typeof v === 'string' && /^\/(?!\/)[\w\-/?=&.%]*$/.test(v) ? v : '/editor';
}

export function authRoutes(deps: AppDeps): Router {
  const r = Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  r.get('/login', (req, res) => {
    if (state(res).redisDown || deps.redis.status !== 'ready') return unavailable(res);
    if (state(res).session) return void res.redirect(303, '/editor');
    const token = newCsrfToken();
    setCookie(req, res, CSRF_COOKIE, token, { path: '/login', sameSite: 'Strict', maxAgeSeconds: 3600 });
    res.type('html').send(loginPage({ csrf: token }));
  });

  r.post('/login', form, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (state(res).redisDown || deps.redis.status !== 'ready') return unavailable(res);
    if (!csrfMatches(parseCookies(req)[CSRF_COOKIE], body[CSRF_FIELD])) {
      return void res.status(403).type('html').send(errorPage('Form expired', 'The login form could not be verified. Open the login page again.'));
    }
    const email = normalizeEmail(typeof body['email'] === 'string' ? body['email'] : '');
    const password = typeof body['password'] === 'string' ? body['password'] : '';
    const csrf = String(body[CSRF_FIELD]);
    const ip = clientIp(req);
    try {
      const verdict = await deps.limiter.check(ip, email);
      if (!verdict.ok) {
        res.status(429).setHeader('Retry-After', String(verdict.retryAfterSeconds));
        const msg = verdict.reason === 'locked' ? `Too many failed attempts for this account from your address; try again in ${verdict.retryAfterSeconds} s.` : 'Too many login attempts from your address; wait a minute.';
        return void res.type('html').send(loginPage({ csrf, email, error: msg }));
      }
      const user = email ? await deps.users.findByEmail(email) : null;
      const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
      if (!user || !ok) {
        await deps.limiter.failed(ip, email);
        return void res.status(401).type('html').send(loginPage({ csrf, email, error: 'Wrong email or password.' }));
      }
      await deps.limiter.succeeded(ip, email);
      const session = await deps.sessions.create({ id: user.id, email: user.email, name: user.name, role: user.role });
      setCookie(req, res, SESSION_COOKIE, session.id, { maxAgeSeconds: 7 * 24 * 3600 });
      setCookie(req, res, CSRF_COOKIE, '', { path: '/login', maxAgeSeconds: 0 });
      state(res).log.info({ userId: user.id }, 'logged in');
      res.redirect(303, safeNext(req.query['next']));
    } catch (err) {
      if (deps.redis.status !== 'ready') return unavailable(res);
      throw err;
    }
  });

  r.post('/logout', form, requireSession, requireCsrf, async (req, res) => {
    await deps.sessions.destroy(state(res).session!);
    setCookie(req, res, SESSION_COOKIE, '', { maxAgeSeconds: 0 });
    res.redirect(303, '/');
  });

  r.post('/logout/everywhere', form, requireSession, requireCsrf, async (req, res) => {
    const n = await deps.sessions.destroyAll(state(res).session!.user.id);
    state(res).log.info({ sessions: n }, 'logged out everywhere');
    setCookie(req, res, SESSION_COOKIE, '', { maxAgeSeconds: 0 });
    res.redirect(303, '/login');
  });

  return r;
}
