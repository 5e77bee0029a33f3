import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../rate-limiter.ts';

describe('rate limiter', () => {
  it('allows a burst, then the refill rate', () => {
    const rl = new RateLimiter({ ratePerSecond: 10, burst: 3, maxKeys: 10 });
    const at = (t: number) => rl.take('peer', t).allowed;
    expect([at(0), at(0), at(0), at(0)]).toEqual([true, true, true, false]);
    expect(rl.take('peer', 50)).toEqual({ allowed: false, retryAfterMs: 50 });
    expect(at(100)).toBe(true);
    expect(at(100)).toBe(false);
  });

  it('keeps keys apart', () => {
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 10 });
    expect(rl.take('a', 0).allowed).toBe(true);
    expect(rl.take('a', 0).allowed).toBe(false);
    expect(rl.take('b', 0).allowed).toBe(true);
  });

  it('never holds more than maxKeys keys, dropping the least recently used', () => {
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 2 });
    rl.take('a', 0);
    rl.take('b', 0);
    rl.take('a', 0); // a is now the most recent
    rl.take('c', 0); // drops b
    expect(rl.size).toBe(2);
    expect(rl.take('a', 0).allowed).toBe(false);
    expect(rl.take('b', 0).allowed).toBe(true); // forgotten, so full again
  });

  it('does not let a clock that goes backwards mint tokens', () => {
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 2 });
    expect(rl.take('a', 1000).allowed).toBe(true);
    expect(rl.take('a', 0).allowed).toBe(false);
    expect(rl.take('a', 999).allowed).toBe(false);
    expect(rl.take('a', 2000).allowed).toBe(true);
  });

  it('refuses nonsense options', () => {
    expect(() => new RateLimiter({ ratePerSecond: 0, burst: 1, maxKeys: 1 })).toThrow(RangeError);
  });
});
