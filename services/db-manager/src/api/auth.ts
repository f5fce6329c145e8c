// Bearer-token check for mutating admin calls (timing-safe comparison).
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

export function requireToken(token: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (!token) {
      res.status(403).json({ error: 'mutating calls are disabled: start the manager with --admin-token (DBM_ADMIN_TOKEN)' });
      return;
    }
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    const given = Buffer.from(m?.[1]?.trim() ?? '');
    const want = Buffer.from(token);
    if (!m || given.length !== want.length || !timingSafeEqual(given, want)) {
      res.set('www-authenticate', 'Bearer realm="dramble-db-manager"');
      res.status(401).json({ error: m ? 'invalid bearer token' : 'missing Authorization: Bearer <token> header' });
      return;
    }
    next();
  };
}
