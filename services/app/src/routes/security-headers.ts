// The security headers of every public response (CSP and the rest of helmet's set). Helmet stays
// the source of the values, but with these options none depends on the request, so they are
// worked out once at start and then set with a plain loop: running helmet's chain of twelve
// middlewares per request cost more than the rest of a cache hit's own work.
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

export const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      'default-src': ["'none'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'img-src': ["'self'", 'https:', 'data:'],
      'connect-src': ["'self'"],
      'font-src': ["'self'"],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
      'base-uri': ["'none'"],
      'object-src': ["'none'"],
    },
  },
  // Not from helmet: app.ts adds HSTS when the public URL is https (plain-http local runs must keep working).
  strictTransportSecurity: false,
  crossOriginEmbedderPolicy: false,
};

/** Runs helmet once against a recording response; [name, value] pairs in the order helmet sets them. */
export function computeSecurityHeaders(options: Readonly<HelmetOptions> = HELMET_OPTIONS): ReadonlyArray<readonly [string, string]> {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.push([name, String(value)]);
      return recorder;
    },
    removeHeader() {},
  };
  let done: unknown = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => (done = err ?? true));
  // A directive computed per request (a nonce) would make helmet need the request: not precomputable.
  if (done !== true) throw new Error(`helmet did not finish synchronously with these options: ${String(done)}`);
  return headers;
}
