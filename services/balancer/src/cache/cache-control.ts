// Parses Cache-Control and CDN-Cache-Control (RFC 9111 §5.2, RFC 9213) into the directives a
// shared cache acts on, by the grammar `#( token [ "=" ( token / quoted-string ) ] )`.
// - Unknown directives are ignored (§5.2.3); an element that breaks the grammar is skipped.
// - The first occurrence of a valued directive wins (§4.2.1), valid or not.
// - delta-seconds are digits only, in the token form: `max-age="5"`, `max-age=-1`, `max-age=1.5`
//   are invalid and read as NaN, which the freshness rules treat as "already stale" for a
//   response (§4.2.1 encourages it) and as absent for a request. Values beyond 2^31 are capped (§1.2.2).
// - no-cache and private take an optional list of field names (quoted, or a single token).

export interface CacheControl {
  /** A number when valid, NaN when present but malformed, undefined when absent. */
  maxAge?: number;
  sMaxage?: number;
  staleWhileRevalidate?: number;
  staleIfError?: number;
  /** Request only: Infinity for a bare `max-stale`. */
  maxStale?: number;
  minFresh?: number;
  noStore: boolean;
  /** Unqualified no-cache: never used without revalidation. */
  noCache: boolean;
  /** Qualified no-cache="a, b": those fields are not served without revalidation (lower-case). */
  noCacheFields?: string[];
  /** Unqualified private: a shared cache must not store the response. */
  private: boolean;
  /** Qualified private="a, b": a shared cache stores the response without those fields. */
  privateFields?: string[];
  public: boolean;
  mustRevalidate: boolean;
  proxyRevalidate: boolean;
  noTransform: boolean;
  mustUnderstand: boolean;
  onlyIfCached: boolean;
}

/** The largest delta-seconds a cache needs to tell apart (RFC 9111 §1.2.2). */
export const MAX_DELTA_SECONDS = 2 ** 31;

const EMPTY: CacheControl = Object.freeze({
  noStore: false,
  noCache: false,
  private: false,
  public: false,
  mustRevalidate: false,
  proxyRevalidate: false,
  noTransform: false,
  mustUnderstand: false,
  onlyIfCached: false,
}) as CacheControl;

/** The parse of an absent header; shared and frozen (the hit path parses nothing when there is no header). */
export const NO_CACHE_CONTROL: Readonly<CacheControl> = EMPTY;

export function parseCacheControl(value: string | string[] | undefined): CacheControl {
  if (value === undefined) return { ...EMPTY };
  const text = Array.isArray(value) ? value.join(',') : value;
  const cc: CacheControl = { ...EMPTY };
  forEachDirective(text, (name, arg, quoted) => apply(cc, name, arg, quoted));
  return cc;
}

function apply(cc: CacheControl, name: string, arg: string | undefined, quoted: boolean): void {
  switch (name) {
    case 'max-age':
      if (cc.maxAge === undefined) cc.maxAge = deltaSeconds(arg, quoted);
      break;
    case 's-maxage':
      if (cc.sMaxage === undefined) cc.sMaxage = deltaSeconds(arg, quoted);
      break;
    case 'stale-while-revalidate':
      if (cc.staleWhileRevalidate === undefined) cc.staleWhileRevalidate = deltaSeconds(arg, quoted);
      break;
    case 'stale-if-error':
      if (cc.staleIfError === undefined) cc.staleIfError = deltaSeconds(arg, quoted);
      break;
    case 'max-stale':
      if (cc.maxStale === undefined) cc.maxStale = arg === undefined ? Infinity : deltaSeconds(arg, quoted);
      break;
    case 'min-fresh':
      if (cc.minFresh === undefined) cc.minFresh = deltaSeconds(arg, quoted);
      break;
    case 'no-store':
      cc.noStore = true;
      break;
    case 'no-cache': {
      const fields = fieldNames(arg);
      if (fields === undefined) cc.noCache = true;
      else cc.noCacheFields = [...(cc.noCacheFields ?? []), ...fields];
      break;
    }
    case 'private': {
      const fields = fieldNames(arg);
      if (fields === undefined) cc.private = true;
      else cc.privateFields = [...(cc.privateFields ?? []), ...fields];
      break;
    }
    case 'public':
      cc.public = true;
      break;
    case 'must-revalidate':
      cc.mustRevalidate = true;
      break;
    case 'proxy-revalidate':
      cc.proxyRevalidate = true;
      break;
    case 'no-transform':
      cc.noTransform = true;
      break;
    case 'must-understand':
      cc.mustUnderstand = true;
      break;
    case 'only-if-cached':
      cc.onlyIfCached = true;
      break;
  }
}

/** delta-seconds: 1*DIGIT in the token form; NaN when malformed. */
export function deltaSeconds(arg: string | undefined, quoted = false): number {
  if (arg === undefined || quoted || arg.length === 0) return NaN;
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
  }
  // Long digit strings are far beyond the cap: no need to parse them exactly. Leading zeros do not
  // count: `max-age=000000000005` is five seconds, not 2^31.
  let zeros = 0;
  while (zeros < arg.length - 1 && arg.charCodeAt(zeros) === 48) zeros++;
  return arg.length - zeros > 10 ? MAX_DELTA_SECONDS : Math.min(Number(arg), MAX_DELTA_SECONDS);
}

/** `"a, B"` -> ['a', 'b']; undefined for no argument or an empty list (then the directive is unqualified). */
function fieldNames(arg: string | undefined): string[] | undefined {
  if (arg === undefined) return undefined;
  const names = arg
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n.length > 0 && isToken(n));
  return names.length > 0 ? names : undefined;
}

// tchar (RFC 9110 §5.6.2): "!#$%&'*+-.^_`|~" DIGIT ALPHA
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTchar(s.charCodeAt(i))) return false;
  return true;
}

const isOws = (code: number): boolean => code === 32 || code === 9;

/**
 * Calls `fn(lowerName, argument, quoted)` for every well-formed list element; a malformed element
 * (no token name, junk after the value, an unterminated quote) is skipped up to the next comma
 * outside quotes. Never throws.
 */
export function forEachDirective(text: string, fn: (name: string, arg: string | undefined, quoted: boolean) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Empty list elements and whitespace between them (RFC 9110 §5.6.1).
    let c = text.charCodeAt(i);
    if (c === 44 || isOws(c)) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && isTchar(text.charCodeAt(i))) i++;
    let ok = i > start;
    const name = text.slice(start, i).toLowerCase();
    let arg: string | undefined;
    let quoted = false;
    if (ok && i < n && text.charCodeAt(i) === 61 /* = */) {
      i++;
      if (i < n && text.charCodeAt(i) === 34 /* " */) {
        quoted = true;
        i++;
        let v = '';
        let closed = false;
        while (i < n) {
          c = text.charCodeAt(i);
          if (c === 92 /* \ */ && i + 1 < n) {
            v += text[i + 1];
            i += 2;
          } else if (c === 34) {
            closed = true;
            i++;
            break;
          } else {
            v += text[i];
            i++;
          }
        }
        if (closed) arg = v;
        else ok = false;
      } else {
        const vs = i;
        while (i < n && isTchar(text.charCodeAt(i))) i++;
        arg = text.slice(vs, i);
      }
    }
    while (i < n && isOws(text.charCodeAt(i))) i++;
    if (i < n && text.charCodeAt(i) !== 44) {
      ok = false;
      // Skip the rest of the element, honouring quotes so a comma inside them does not end it.
      let inQuote = false;
      while (i < n) {
        c = text.charCodeAt(i);
        if (inQuote && c === 92) i++;
        else if (c === 34) inQuote = !inQuote;
        else if (c === 44 && !inQuote) break;
        i++;
      }
    }
    if (ok) fn(name, arg, quoted);
  }
}
