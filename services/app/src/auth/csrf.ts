// CSRF tokens: bound to the session once logged in; a double-submit cookie for the login form.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_COOKIE = 'dramble_csrf';
export const CSRF_FIELD = '_csrf';

export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}

export function csrfMatches(expected: string | undefined, given: unknown): boolean {
  if (!expected || typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}
