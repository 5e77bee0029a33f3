/**
 * Per-key token buckets (a peer id, or an IP for HTTP): `ratePerSecond`
 * tokens refill continuously up to `burst`, each request takes one. Time is
 * passed in, so tests and simulations are exact. Bounded: when `maxKeys` is
 * reached the least recently used key is dropped (a dropped key starts again
 * with a full bucket, which errs towards letting a request through).
 */
export interface RateLimiterOptions {
  ratePerSecond: number;
  burst: number;
  maxKeys: number;
}

export interface RateDecision {
  allowed: boolean;
  /** When refused: how long until one token is back, in milliseconds. */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly opts: RateLimiterOptions;
  // Map iteration order is insertion order; re-inserting on use keeps the LRU key first.
  private readonly buckets = new Map<string, Bucket>();

  constructor(opts: RateLimiterOptions) {
    if (!(opts.ratePerSecond > 0) || !(opts.burst >= 1) || !(opts.maxKeys >= 1)) {
      throw new RangeError('rate limiter needs ratePerSecond > 0, burst >= 1 and maxKeys >= 1');
    }
    this.opts = opts;
  }

  take(key: string, nowMs: number): RateDecision {
    const { ratePerSecond, burst } = this.opts;
    const bucket = this.buckets.get(key) ?? { tokens: burst, updatedMs: nowMs };
    const elapsed = Math.max(0, nowMs - bucket.updatedMs);
    bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * ratePerSecond) / 1000);
    bucket.updatedMs = Math.max(bucket.updatedMs, nowMs);
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    this.evict();
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * 1000) / ratePerSecond) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(): void {
    while (this.buckets.size > this.opts.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) return;
      this.buckets.delete(oldest);
    }
  }
}
