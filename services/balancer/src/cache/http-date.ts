// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms a
// recipient must still accept. Anything else is invalid (NaN): an invalid Expires means the
// response is already stale (RFC 9111 §5.3), an invalid Date is ignored.

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

const IMF = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850 = /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ( \d|\d{2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/** Milliseconds since the epoch, or NaN when `value` is not an HTTP-date. */
export function parseHttpDate(value: string | undefined): number {
  if (value === undefined || value.length > 40) return NaN;
  const v = value.trim();
  let m = IMF.exec(v);
  if (m) return build(Number(m[3]), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = RFC850.exec(v);
  if (m) {
    // Two-digit years more than 50 years in the future are in the past century (RFC 9110 §5.6.7).
    const yy = Number(m[3]);
    const thisYear = new Date().getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear + 50) year -= 100;
    return build(year, m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME.exec(v);
  if (m) return build(Number(m[6]), m[1]!, Number(m[2]!.trim()), m[3]!, m[4]!, m[5]!);
  return NaN;
}

function build(year: number, month: string, day: number, hh: string, mm: string, ss: string): number {
  const mon = MONTHS[month];
  const h = Number(hh);
  const mi = Number(mm);
  // 60 allows a leap second; it reads as the next second.
  const s = Number(ss);
  if (mon === undefined || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return NaN;
  const t = Date.UTC(year, mon, day, h, mi, s);
  // Date.UTC rolls 31 Feb over into March: such a date is not a date.
  return new Date(t).getUTCDate() === day || s === 60 ? t : NaN;
}

/** The first value of a header that may have arrived as several lines. */
export function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
