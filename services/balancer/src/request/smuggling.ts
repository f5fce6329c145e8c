// Request-smuggling defences (RFC 9112 §6.1, §6.3): a request whose framing two parsers could read
// differently is refused, never forwarded. Node's parser already rejects most of these; this check
// runs on the raw header list anyway so the guarantee does not depend on parser flags
// (--insecure-http-parser) or version.

/** Returns why the request framing is ambiguous, or undefined when it is fine. */
export function framingProblem(rawHeaders: readonly string[]): string | undefined {
  let contentLengths = 0;
  let transferEncodings = 0;
  let teValue = '';
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!;
    const value = rawHeaders[i + 1] ?? '';
    if (value.indexOf('\n') !== -1 || value.indexOf('\r') !== -1) return 'obs-fold or bare line break in a header value';
    // Only three names matter; comparing lengths first spares a lower-casing of every other one.
    const len = raw.length;
    if (len !== 14 && len !== 4 && len !== 17) continue;
    const name = raw.toLowerCase();
    if (name === 'content-length') {
      contentLengths++;
      if (!/^\d{1,15}$/.test(value.trim())) return 'invalid Content-Length';
    } else if (name === 'host') {
      hosts++;
    } else if (name === 'transfer-encoding') {
      transferEncodings++;
      teValue = value.trim().toLowerCase();
    }
  }
  if (contentLengths > 1) return 'more than one Content-Length';
  // RFC 9112 §3.2: a request with more than one Host must be refused (proxy and backend could route differently).
  if (hosts > 1) return 'more than one Host';
  if (transferEncodings > 0 && contentLengths > 0) return 'both Content-Length and Transfer-Encoding';
  if (transferEncodings > 1) return 'more than one Transfer-Encoding';
  // Only plain chunked is accepted: anything else (gzip, chunked; xchunked; identity) is a coding
  // some parser in the chain may not read as we do.
  if (transferEncodings === 1 && teValue !== 'chunked') return `unsupported Transfer-Encoding "${teValue}"`;
  return undefined;
}
