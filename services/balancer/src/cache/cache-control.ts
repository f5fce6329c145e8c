// Parses Cache-Control (RFC 9111 §5.2) into the few directives a shared cache acts on.
// Unknown directives are ignored, as §5.2.3 requires; a malformed number makes its directive absent.

export interface CacheControl {
  maxAge?: number;
  sMaxage?: number;
  staleWhileRevalidate?: number;
  staleIfError?: number;
  noStore: boolean;
  noCache: boolean;
  private: boolean;
  public: boolean;
  mustRevalidate: boolean;
  proxyRevalidate: boolean;
}

export function parseCacheControl(value: string | string[] | undefined): CacheControl {
  const cc: CacheControl = { noStore: false, noCache: false, private: false, public: false, mustRevalidate: false, proxyRevalidate: false };
  if (value === undefined) return cc;
  const text = Array.isArray(value) ? value.join(',') : value;
  for (const [name, arg] of directives(text)) {
    switch (name) {
      case 'max-age':
        cc.maxAge = seconds(arg) ?? cc.maxAge;
        break;
      case 's-maxage':
        cc.sMaxage = seconds(arg) ?? cc.sMaxage;
        break;
      case 'stale-while-revalidate':
        cc.staleWhileRevalidate = seconds(arg) ?? cc.staleWhileRevalidate;
        break;
      case 'stale-if-error':
        cc.staleIfError = seconds(arg) ?? cc.staleIfError;
        break;
      // The qualified forms (`private="set-cookie"`, `no-cache="x"`) are treated as the whole
      // directive: a micro-cache that cannot strip fields safely must not store the response.
      case 'no-store':
        cc.noStore = true;
        break;
      case 'no-cache':
        cc.noCache = true;
        break;
      case 'private':
        cc.private = true;
        break;
      case 'public':
        cc.public = true;
        break;
      case 'must-revalidate':
        cc.mustRevalidate = true;
        break;
      case 'proxy-revalidate':
        cc.proxyRevalidate = true;
        break;
    }
  }
  return cc;
}

/** Splits `a, b=1, c="x, y"` into [name, argument] pairs; commas inside quotes do not split. */
function directives(text: string): [string, string | undefined][] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && quoted) cur += text[++i] ?? '';
    if (c === ',' && !quoted) {
      parts.push(cur);
      cur = '';
    } else if (!(c === '\\' && quoted)) cur += c;
  }
  parts.push(cur);
  const out: [string, string | undefined][] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!name) continue;
    let arg = eq < 0 ? undefined : part.slice(eq + 1).trim();
    if (arg !== undefined && arg.length >= 2 && arg.startsWith('"') && arg.endsWith('"')) arg = arg.slice(1, -1);
    out.push([name, arg]);
  }
  return out;
}

/** delta-seconds (RFC 9111 §1.2.2): digits only; values too large are capped, not rejected. */
function seconds(arg: string | undefined): number | undefined {
  if (arg === undefined || !/^\d+$/.test(arg)) return undefined;
  return Math.min(Number(arg), 2 ** 31);
}
