// Header names and values from undici's raw header Buffers, as strings. Decoding a Buffer is a
// call into C++ and a new string every time (about 700 instructions under callgrind, a dozen
// times per response), yet the same few names and values come back in response after response.
// Short ones are kept in a small table: a hit costs a byte comparison, allocates nothing, and hands
// back the same string, whose hash V8 then already knows for the Set and property lookups that
// follow.

/** Longer strings (cookies, long ETags) rarely repeat: decoded every time, not kept. */
const MAX_KEPT_BYTES = 48;
/** Table size (a power of two); a collision just replaces the older string. */
const SLOTS = 256;

class Latin1Table {
  private readonly slots: Array<string | undefined> = new Array<string | undefined>(SLOTS).fill(undefined);

  constructor(private readonly lowerCase: boolean) {}

  get(bytes: Buffer): string {
    const n = bytes.length;
    if (n === 0) return '';
    if (n > MAX_KEPT_BYTES) return this.decode(bytes);
    // The slot from the length and three bytes, not a hash over all of them: the comparison that
    // follows reads every byte anyway, and strings that share a slot only cost a decode.
    const slot = (n * 31 + this.byte(bytes, 0) * 7 + this.byte(bytes, n >> 1) * 3 + this.byte(bytes, n - 1)) & (SLOTS - 1);
    const kept = this.slots[slot];
    if (kept !== undefined && kept.length === n && this.matches(kept, bytes)) return kept;
    const s = this.decode(bytes);
    this.slots[slot] = s;
    return s;
  }

  private byte(bytes: Buffer, i: number): number {
    const b = bytes[i]!;
    return this.lowerCase && b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
  }

  private matches(s: string, bytes: Buffer): boolean {
    const lower = this.lowerCase;
    for (let i = 0; i < bytes.length; i++) {
      let b = bytes[i]!;
      if (lower && b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (s.charCodeAt(i) !== b) return false;
    }
    return true;
  }

  private decode(bytes: Buffer): string {
    const s = bytes.toString('latin1');
    return this.lowerCase ? s.toLowerCase() : s;
  }
}

const names = new Latin1Table(true);
const values = new Latin1Table(false);

/** A header name (latin1 bytes) as a lower-case string. */
export function headerName(bytes: Buffer): string {
  return names.get(bytes);
}

/** A header value (latin1 bytes) as a string. */
export function headerValue(bytes: Buffer): string {
  return values.get(bytes);
}
