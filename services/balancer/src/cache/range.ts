// Range requests answered from a complete stored entry (RFC 9110 §14). The Range header is the
// client's to write, so anything but one well-formed byte range is ignored (the whole 200 is an
// allowed answer to any Range, §14.2): multipart answers are not made, overlapping or many
// ranges cost nothing, huge numbers are clamped. A range that starts beyond the end is 416.
import { firstValue } from './http-date.js';

type Headers = Record<string, string | string[] | undefined>;

export type RangeAnswer = { kind: 'whole' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const WHOLE: RangeAnswer = { kind: 'whole' };
const UNSATISFIABLE: RangeAnswer = { kind: 'unsatisfiable' };
const BYTE_RANGE = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

/** What to send for `range` over a stored body of `length` bytes. */
export function rangeAnswer(range: string, length: number): RangeAnswer {
  // A sane Range is short; a long one is a list or an attack, and the whole body answers both.
  if (range.length > 100) return WHOLE;
  const m = BYTE_RANGE.exec(range);
  if (!m) return WHOLE;
  const first = m[1]!;
  const last = m[2]!;
  if (first === '' && last === '') return WHOLE;
  if (first === '') {
    // suffix-range: the last N bytes.
    const n = digits(last);
    if (n === 0) return UNSATISFIABLE;
    if (length === 0) return UNSATISFIABLE;
    return { kind: 'partial', start: Math.max(0, length - n), end: length - 1 };
  }
  const start = digits(first);
  // last-pos below first-pos makes the range-spec invalid: the header is ignored.
  if (last !== '' && digits(last) < start) return WHOLE;
  if (start >= length) return UNSATISFIABLE;
  const end = last === '' ? length - 1 : digits(last);
  return { kind: 'partial', start, end: Math.min(end, length - 1) };
}

/** Digit strings longer than 15 are beyond any body we hold: read them as "very large". */
function digits(s: string): number {
  return s.length > 15 ? Number.MAX_SAFE_INTEGER : Number(s);
}

/**
 * If-Range (§13.1.5): the range applies only when the validator names the stored
 * representation, by a strong ETag or by the exact Last-Modified date; otherwise the whole body.
 */
export function ifRangeHolds(request: Headers, stored: Headers): boolean {
  const ifRange = firstValue(request['if-range']);
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('"')) {
    const etag = firstValue(stored['etag']);
    return etag !== undefined && !etag.startsWith('W/') && etag === v;
  }
  if (v.startsWith('W/')) return false;
  const lastModified = firstValue(stored['last-modified']);
  return lastModified !== undefined && lastModified === v;
}
