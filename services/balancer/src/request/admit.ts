// Admission: the ordered checks a request passes before anything is forwarded, shared by the
// request and the upgrade path (node-http-proxy style: each pass a plain function, the order
// visible in one array). A pass returns undefined to let the request on, or the refusal; the
// caller writes the refusal the way its path answers (a response, or raw bytes on an upgrade socket).
import type { IncomingMessage } from 'node:http';
import type { RateLimiter } from '../rate-limit/index.js';
import type { ClientTally } from './client-tally.js';
import type { RequestContext } from './context.js';
import type { ServerNames } from './server-names.js';
import { framingProblem } from './smuggling.js';

/** What admission reads: rebuilt on reload (limits) around the live counts (tally). */
export interface AdmitRuntime {
  serverNames: ServerNames;
  limiter: RateLimiter;
  maxBodySize: number;
  maxInFlightPerClient: number;
  maxLongLived: number;
  maxLongLivedPerClient: number;
  /** Lower-case Upgrade protocol names that may be tunnelled. */
  upgradeProtocols: ReadonlySet<string>;
  tally: ClientTally;
}

export interface Refusal {
  status: number;
  /** The dramble_balancer_rejected_requests_total reason label. */
  reason: string;
  detail?: string;
  retryAfterSeconds?: number;
}

export type AdmitPass = (req: IncomingMessage, ctx: RequestContext, rt: AdmitRuntime) => Refusal | undefined;

// Fixed refusals are built once: refusing a flood should not allocate per request.
const BAD_TARGET: Refusal = { status: 400, reason: 'request-target', detail: 'Malformed request: unsupported request target.' };
const BAD_HOST: Refusal = { status: 400, reason: 'host-invalid', detail: 'Malformed request: the Host header is missing or not a valid authority.' };
const UNKNOWN_HOST: Refusal = { status: 421, reason: 'host-unknown', detail: 'This server does not serve the requested host.' };
const TOO_LARGE: Refusal = { status: 413, reason: 'body-too-large' };
const CLIENT_IN_FLIGHT: Refusal = { status: 429, reason: 'client-in-flight', retryAfterSeconds: 1 };
const BAD_UPGRADE: Refusal = { status: 400, reason: 'upgrade-protocol', detail: 'This server does not upgrade to that protocol.' };
const LONG_LIVED: Refusal = { status: 503, reason: 'long-lived', retryAfterSeconds: 5 };
const CLIENT_LONG_LIVED: Refusal = { status: 429, reason: 'client-long-lived', retryAfterSeconds: 5 };

/** Sets the Host the backend and the cache see (raw list, facts, and Node's header object). */
function setHost(req: IncomingMessage, ctx: RequestContext, host: string): void {
  const raw = req.rawHeaders;
  let found = false;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') {
      raw[i + 1] = host;
      found = true;
      break;
    }
  }
  if (!found) raw.push('Host', host);
  ctx.headers.host = host;
  req.headers.host = host;
}

/** RFC 9112 §6.1, §6.3: framing two parsers could read differently is refused (request/smuggling.ts). */
export const framing: AdmitPass = (req, ctx) => {
  const problem = framingProblem(req.rawHeaders);
  if (problem === undefined) return undefined;
  ctx.error = problem;
  return { status: 400, reason: 'framing', detail: `Malformed request: ${problem}.` };
};

/**
 * Origin-form only towards backends: absolute-form (RFC 9112 §3.2.2) is reduced to its path and
 * its authority replaces Host, as a proxy must; authority-form, asterisk-form and garbage are refused.
 */
export const target: AdmitPass = (req, ctx) => {
  const t = req.url ?? '';
  if (t[0] === '/') return undefined;
  if (!/^https?:\/\//i.test(t)) return BAD_TARGET;
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    return BAD_TARGET;
  }
  // new URL() accepts userinfo and rewrites odd hosts: take the authority exactly as sent.
  const authority = t.slice(t.indexOf('//') + 2).split(/[/?#]/, 1)[0] ?? '';
  if (authority.includes('@') || u.host === '') return BAD_TARGET;
  req.url = `${u.pathname}${u.search}`;
  setHost(req, ctx, authority);
  return undefined;
};

/** Only declared names (request/server-names.ts); the accepted Host goes on normalised, so the backend and the cache key agree. */
export const host: AdmitPass = (req, ctx, rt) => {
  const value = ctx.headers.host;
  // HTTP/1.0 has no Host requirement: such a request names no host to poison anything with.
  if (value === undefined && req.httpVersion === '1.0') return undefined;
  const verdict = rt.serverNames.check(value, ctx.proto === 'https');
  if (verdict === 400) return BAD_HOST;
  if (verdict === 421) return UNKNOWN_HOST;
  if (verdict !== value) setHost(req, ctx, verdict);
  return undefined;
};

export const size: AdmitPass = (_req, ctx, rt) => {
  const declared = ctx.headers.contentLength;
  return declared !== undefined && rt.maxBodySize > 0 && Number(declared) > rt.maxBodySize ? TOO_LARGE : undefined;
};

/** One client cannot hold more than its share of requests in flight (nginx limit_conn, Envoy's per-downstream limits). */
export const caps: AdmitPass = (_req, ctx, rt) => (rt.tally.inFlight.get(ctx.clientIp) >= rt.maxInFlightPerClient ? CLIENT_IN_FLIGHT : undefined);

export const rateLimit: AdmitPass = (_req, ctx, rt) => {
  if (!rt.limiter.enabled) return undefined;
  const decision = rt.limiter.check(ctx.clientIp);
  return decision.ok ? undefined : { status: 429, reason: 'rate-limit', retryAfterSeconds: decision.retryAfterSeconds };
};

/** Every protocol the client offers (RFC 9110 §7.8) must be one we tunnel; by default only websocket. */
export const upgradeProtocol: AdmitPass = (req, _ctx, rt) => {
  const offered = req.headers.upgrade;
  if (offered === undefined || offered.trim() === '') return BAD_UPGRADE;
  for (const part of offered.split(',')) {
    const name = part.trim().split('/', 1)[0]!.toLowerCase();
    if (!rt.upgradeProtocols.has(name)) return BAD_UPGRADE;
  }
  return undefined;
};

/** Room for one more long-lived response, in total and for this client. */
export function longLivedRefusal(ctx: RequestContext, rt: AdmitRuntime): Refusal | undefined {
  if (rt.tally.longLivedTotal >= rt.maxLongLived) return LONG_LIVED;
  if (rt.tally.longLived.get(ctx.clientIp) >= rt.maxLongLivedPerClient) return CLIENT_LONG_LIVED;
  return undefined;
}

export const longLived: AdmitPass = (_req, ctx, rt) => longLivedRefusal(ctx, rt);

export const REQUEST_PASSES: readonly AdmitPass[] = [framing, target, host, size, caps, rateLimit];
export const UPGRADE_PASSES: readonly AdmitPass[] = [framing, target, host, size, caps, rateLimit, upgradeProtocol, longLived];

/** Runs the passes in order; the first refusal wins. */
export function admit(passes: readonly AdmitPass[], req: IncomingMessage, ctx: RequestContext, rt: AdmitRuntime): Refusal | undefined {
  for (let i = 0; i < passes.length; i++) {
    const refusal = passes[i]!(req, ctx, rt);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}
