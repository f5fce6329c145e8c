// A token bucket (pure): `burst` requests at once, then `ratePerSecond` on average.

export interface Bucket {
  tokens: number;
  /** Clock time (ms) the token count was computed at. */
  at: number;
}

export interface TakeResult {
  bucket: Bucket;
  ok: boolean;
  /** When refused: whole seconds until one token is back (the Retry-After value, at least 1). */
  retryAfterSeconds: number;
}

/** Refills the bucket up to now and takes one token if there is one. */
export function take(bucket: Bucket | undefined, now: number, ratePerSecond: number, burst: number): TakeResult {
  const tokens = bucket === undefined ? burst : refill(bucket, now, ratePerSecond, burst);
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: now }, ok: true, retryAfterSeconds: 0 };
  const retryAfterSeconds = Math.max(1, Math.ceil((1 - tokens) / ratePerSecond));
  return { bucket: { tokens, at: now }, ok: false, retryAfterSeconds };
}

export function refill(bucket: Bucket, now: number, ratePerSecond: number, burst: number): number {
  const elapsed = Math.max(0, now - bucket.at) / 1000;
  return Math.min(burst, bucket.tokens + elapsed * ratePerSecond);
}
