import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultPhiAccrualOptions,
  HeartbeatHistory,
  PhiAccrualDetector,
  type PhiAccrualOptions,
  phi,
  thresholdY,
} from '../membership/index.ts';

/** Akka's spec builds detectors with these (acceptable pause 0, unlike the runtime default). */
function akkaTestDetector(opts: Partial<PhiAccrualOptions> = {}): PhiAccrualDetector {
  return new PhiAccrualDetector({ minStdDeviationMs: 100, acceptableHeartbeatPauseMs: 0, ...opts });
}

/** Akka's published phi(timeDiff, mean, stdDeviation), written as Akka writes it. */
function akkaLiteralPhi(t: number, mean: number, sd: number): number {
  const y = (t - mean) / sd;
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  return t > mean ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
}

const cdf = (p: number): number => 1 - 10 ** -p;

/** Akka's fakeTimeGenerator: successive calls return the running sums of `intervals`. */
function fakeClock(intervals: number[]): () => number {
  let i = 0;
  let t = 0;
  return () => {
    if (i >= intervals.length) throw new Error('fake clock ran out of times');
    t += intervals[i++]!;
    return t;
  };
}

describe('phi(timeSinceLast, mean, stdDev)', () => {
  it("matches Akka's realistic phi vectors (mean 1000, σ 100, no pause added)", () => {
    const vectors: [number, number][] = [
      [0, 0.0],
      [500, 0.1],
      [1000, 0.3],
      [1200, 1.6],
      [1400, 4.7],
      [1600, 10.8],
      [1700, 15.3],
    ];
    for (const [t, expected] of vectors) expect(Math.abs(phi(t, 1000, 100) - expected)).toBeLessThanOrEqual(0.1);
  });

  it("is a good enough normal CDF (Akka's CDF vectors)", () => {
    expect(cdf(phi(0, 0, 10))).toBeCloseTo(0.5, 3);
    expect(Math.abs(cdf(phi(6, 0, 10)) - 0.7257)).toBeLessThan(0.001);
    expect(Math.abs(cdf(phi(15, 0, 10)) - 0.9332)).toBeLessThan(0.001);
    expect(Math.abs(cdf(phi(20, 0, 10)) - 0.97725)).toBeLessThan(0.001);
    expect(Math.abs(cdf(phi(25, 0, 10)) - 0.99379)).toBeLessThan(0.001);
    expect(Math.abs(cdf(phi(35, 0, 10)) - 0.99977)).toBeLessThan(0.001);
    expect(Math.abs(cdf(phi(40, 0, 10)) - 0.99997)).toBeLessThan(0.0001);
    expect(Math.abs(cdf(phi(22, 20, 3)) - 0.7475)).toBeLessThan(0.001);
    for (let x = 0; x < 40; x++) expect(phi(x, 0, 10)).toBeLessThan(phi(x + 1, 0, 10));
  });

  it("handles outliers like Akka, but stays finite where Akka's form reaches Infinity", () => {
    expect(Math.abs(phi(10, 0, 1) - 38)).toBeLessThanOrEqual(1);
    expect(phi(-25, 0, 1)).toBe(0);
    expect(akkaLiteralPhi(30, 0, 1)).toBe(Number.POSITIVE_INFINITY);
    const far = phi(30, 0, 1);
    expect(Number.isFinite(far)).toBe(true);
    expect(far).toBeGreaterThan(phi(10, 0, 1));
    expect(Number.isFinite(phi(1e12, 4000, 100))).toBe(true);
  });

  it("agrees with Akka's own expressions wherever those are accurate", () => {
    for (let t = -2000; t <= 6000; t += 7) {
      for (const [mean, sd] of [
        [1000, 100],
        [4000, 100],
        [4179, 87.1],
        [0, 10],
      ] as const) {
        const literal = akkaLiteralPhi(t, mean, sd);
        // Past φ ≈ 300 Akka's e is subnormal (few significant bits), then 0 (φ = Infinity).
        if (!(literal < 300)) continue;
        expect(Math.abs(phi(t, mean, sd) - literal)).toBeLessThanOrEqual(1e-9 * Math.max(1, literal));
      }
    }
  });

  it('gives a lower φ for a larger σ', () => {
    expect(phi(1100, 1000, 500)).toBeLessThan(phi(1100, 1000, 100));
  });

  it('is monotone in t (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e7, noNaN: true }),
        fc.double({ min: -1e6, max: 1e7, noNaN: true }),
        fc.double({ min: 0, max: 1e5, noNaN: true }),
        fc.double({ min: 1, max: 1e4, noNaN: true }),
        (a, b, mean, sd) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const pLo = phi(lo, mean, sd);
          const pHi = phi(hi, mean, sd);
          return Number.isFinite(pLo) && pLo >= 0 && pLo <= pHi;
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is monotone in the time since the last heartbeat for any detector history (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 0, maxLength: 50 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        (gaps, a, b) => {
          const fd = new PhiAccrualDetector();
          let t = 0;
          fd.heartbeat(t);
          for (const g of gaps) {
            t += g;
            fd.heartbeat(t);
          }
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          return fd.phi(t + lo) <= fd.phi(t + hi);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('HeartbeatHistory', () => {
  it("has Akka's mean and variance for 100, 200, 125, 340, 130", () => {
    const h = new HeartbeatHistory(20);
    for (const x of [100, 200, 125, 340, 130]) h.add(x);
    expect(h.count).toBe(5);
    expect(h.mean).toBeCloseTo(179, 5);
    expect(h.variance).toBeCloseTo(7584, 5);
    expect(h.stdDeviation).toBeCloseTo(Math.sqrt(7584), 9);
  });

  it('has 0 variance for one sample', () => {
    const h = new HeartbeatHistory(600);
    h.add(1000);
    expect(h.variance).toBe(0);
  });

  it("is capped by maxSampleSize (Akka's vectors)", () => {
    const h = new HeartbeatHistory(3);
    for (const x of [100, 110, 90]) h.add(x);
    expect(h.mean).toBeCloseTo(100, 5);
    expect(h.variance).toBeCloseTo(66.6666667, 5);
    h.add(140);
    expect(h.mean).toBeCloseTo(113.333333, 5);
    expect(h.variance).toBeCloseTo(422.222222, 5);
    h.add(80);
    expect(h.mean).toBeCloseTo(103.333333, 5);
    expect(h.variance).toBeCloseTo(688.88888889, 5);
    expect(h.intervals()).toEqual([90, 140, 80]);
    expect(h.count).toBe(3);
  });

  it('keeps the running sums equal to a recomputation after many wraps (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 300 }),
        (size, xs) => {
          const h = new HeartbeatHistory(size);
          for (const x of xs) h.add(x);
          const kept = xs.slice(-size);
          const mean = kept.reduce((s, x) => s + x, 0) / kept.length;
          const variance = kept.reduce((s, x) => s + (x - mean) ** 2, 0) / kept.length;
          return (
            h.count === kept.length &&
            h.intervals().every((x, i) => x === kept[i]) &&
            Math.abs(h.mean - mean) <= 1e-6 * Math.max(1, mean) &&
            Math.abs(h.variance - variance) <= 1e-6 * Math.max(1, mean * mean)
          );
        },
      ),
    );
  });

  it('refuses a sample size below 1', () => {
    expect(() => new HeartbeatHistory(0)).toThrow(RangeError);
    expect(() => new HeartbeatHistory(2.5)).toThrow(RangeError);
  });
});

describe('PhiAccrualDetector', () => {
  it("has Akka's defaults", () => {
    expect(defaultPhiAccrualOptions).toEqual({
      threshold: 8,
      maxSampleSize: 1000,
      minStdDeviationMs: 100,
      acceptableHeartbeatPauseMs: 3000,
      firstHeartbeatEstimateMs: 1000,
    });
    expect(new PhiAccrualDetector().options).toEqual(defaultPhiAccrualOptions);
  });

  it('reports φ = 0 before any heartbeat', () => {
    const fd = new PhiAccrualDetector();
    expect(fd.isMonitoring).toBe(false);
    expect(fd.lastHeartbeatMs).toBeUndefined();
    expect(fd.phi(0)).toBe(0);
    expect(fd.phi(1e9)).toBe(0);
    expect(fd.isAvailable(1e9)).toBe(true);
  });

  it('seeds the history like Akka on the first heartbeat: mean ± mean/4', () => {
    const fd = new PhiAccrualDetector();
    fd.heartbeat(5000);
    expect(fd.intervals()).toEqual([750, 1250]);
    expect(fd.history).toEqual({ mean: 1000, variance: 62_500, stdDeviation: 250, count: 2 });
    expect(fd.lastHeartbeatMs).toBe(5000);
  });

  it('guesses φ from the estimate after one heartbeat (Akka)', () => {
    const fd = akkaTestDetector();
    fd.heartbeat(0);
    expect(Math.abs(fd.phi(1000) - 0.3)).toBeLessThanOrEqual(0.2);
    expect(Math.abs(fd.phi(2000) - 4.5)).toBeLessThanOrEqual(0.3);
    expect(fd.phi(3000)).toBeGreaterThan(15);
  });

  it('uses the first interval after the second heartbeat (Akka)', () => {
    const fd = akkaTestDetector();
    fd.heartbeat(0);
    expect(fd.phi(100)).toBeGreaterThan(0);
    fd.heartbeat(200);
    expect(fd.phi(300)).toBeGreaterThan(0);
    expect(fd.intervals()).toEqual([750, 1250, 200]);
  });

  it('marks a node unavailable when heartbeats are missed (Akka)', () => {
    const fd = akkaTestDetector({ threshold: 3 });
    fd.heartbeat(0);
    fd.heartbeat(1000);
    fd.heartbeat(1100);
    expect(fd.isAvailable(1200)).toBe(true);
    expect(fd.isAvailable(8200)).toBe(false);
  });

  it('leaves the first interval after a failure out of the history (Akka)', () => {
    const fd = akkaTestDetector({ acceptableHeartbeatPauseMs: 3000 });
    // Akka's fake clock: every heartbeat() and isAvailable() reads the next time.
    const clock = fakeClock([0, ...Array<number>(999).fill(1000), 5 * 60_000, 100, 900, 100, 7000, 100, 900, 100, 900]);
    for (let i = 0; i < 1000; i++) fd.heartbeat(clock());
    expect(fd.isAvailable(clock())).toBe(false); // after the long pause
    fd.heartbeat(clock());
    expect(fd.isAvailable(clock())).toBe(true);
    fd.heartbeat(clock());
    expect(fd.isAvailable(clock())).toBe(false); // after 7 s: would be available had the 5 min gap been recorded
    fd.heartbeat(clock());
    expect(fd.isAvailable(clock())).toBe(true);
    fd.heartbeat(clock());
    expect(fd.isAvailable(clock())).toBe(true);
    expect(Math.max(...fd.intervals())).toBeLessThanOrEqual(1250);
  });

  it('accepts the configured missing heartbeats, and fails after them (Akka)', () => {
    const ok = akkaTestDetector({ acceptableHeartbeatPauseMs: 3000 });
    for (const t of [0, 1000, 2000, 3000]) ok.heartbeat(t);
    expect(ok.isAvailable(7000)).toBe(true);
    ok.heartbeat(8000);
    expect(ok.isAvailable(9000)).toBe(true);

    const fails = akkaTestDetector({ acceptableHeartbeatPauseMs: 3000 });
    for (const t of [0, 1000, 2000, 3000, 4000, 5000]) fails.heartbeat(t);
    expect(fails.isAvailable(5500)).toBe(true);
    fails.heartbeat(6000);
    expect(fails.isAvailable(11_000)).toBe(false);
  });

  it('uses only the last maxSampleSize intervals', () => {
    // Akka's "use maxSampleSize heartbeats", with a threshold high enough that every
    // interval is recorded (newer Akka leaves out intervals that arrive while unavailable).
    const fd = akkaTestDetector({ maxSampleSize: 3, threshold: 1e6 });
    for (const t of [0, 100, 200, 300]) fd.heartbeat(t);
    const phi1 = fd.phi(400);
    for (const t of [1000, 1500, 2000, 2500]) fd.heartbeat(t);
    const phi2 = fd.phi(3000);
    expect(Math.abs(phi2 - phi1)).toBeLessThan(0.001);
    expect(fd.intervals()).toEqual([500, 500, 500]);
  });

  it('keeps a bounded history however many heartbeats arrive', () => {
    const fd = new PhiAccrualDetector();
    for (let i = 0; i < 5000; i++) fd.heartbeat(i * 1000 + (i % 7) * 10);
    expect(fd.history.count).toBe(1000);
    expect(fd.intervals()).toHaveLength(1000);
    const small = new PhiAccrualDetector({ maxSampleSize: 5 });
    for (let i = 0; i < 100; i++) small.heartbeat(i * 1000);
    expect(small.intervals()).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('with Akka defaults and 1 s heartbeats, crosses φ = 8 about 4.5 s after the last heartbeat', () => {
    const fd = new PhiAccrualDetector();
    const last = 60_000;
    for (let t = 0; t <= last; t += 1000) fd.heartbeat(t);
    let crossing = Number.NaN;
    for (let dt = 0; dt <= 10_000; dt += 10) {
      if (!fd.isAvailable(last + dt)) {
        crossing = dt;
        break;
      }
    }
    expect(crossing).toBeGreaterThan(4000);
    expect(crossing).toBeLessThan(5000);
    expect(Math.abs(crossing - 4500)).toBeLessThan(100);
    expect(fd.phi(last + 3000)).toBeLessThan(0.01); // a 2 s late heartbeat is nowhere near suspect
  });

  it('treats a clock that went backwards as a 0 ms interval', () => {
    const fd = new PhiAccrualDetector();
    fd.heartbeat(10_000);
    fd.heartbeat(9000);
    expect(fd.lastHeartbeatMs).toBe(10_000);
    expect(fd.intervals()).toEqual([750, 1250, 0]);
    expect(fd.phi(9000)).toBe(phi(-1000, fd.history.mean + 3000, Math.max(100, fd.history.stdDeviation)));
  });

  it('moves a last heartbeat that predates a local pause forward by the pause', () => {
    const fd = new PhiAccrualDetector();
    for (let t = 0; t <= 10_000; t += 1000) fd.heartbeat(t);
    fd.compensatePause(20_500, 10_000); // paused from 10 500 to 20 500
    expect(fd.lastHeartbeatMs).toBe(20_000);
    expect(fd.isAvailable(20_500)).toBe(true);
    fd.heartbeat(20_600); // received after the pause: not moved again
    fd.compensatePause(20_700, 10_000);
    expect(fd.lastHeartbeatMs).toBe(20_600);
  });

  it('starts over after reset()', () => {
    const fd = new PhiAccrualDetector();
    for (let t = 0; t <= 5000; t += 100) fd.heartbeat(t);
    fd.reset();
    expect(fd.isMonitoring).toBe(false);
    fd.heartbeat(60_000);
    expect(fd.intervals()).toEqual([750, 1250]);
  });

  it('refuses bad options and bad times', () => {
    expect(() => new PhiAccrualDetector({ threshold: 0 })).toThrow(/threshold/);
    expect(() => new PhiAccrualDetector({ maxSampleSize: 0 })).toThrow(/maxSampleSize/);
    expect(() => new PhiAccrualDetector({ minStdDeviationMs: -1 })).toThrow(/minStdDeviationMs/);
    expect(() => new PhiAccrualDetector({ acceptableHeartbeatPauseMs: Number.NaN })).toThrow(
      /acceptableHeartbeatPauseMs/,
    );
    expect(() => new PhiAccrualDetector({ firstHeartbeatEstimateMs: 0 })).toThrow(/firstHeartbeatEstimateMs/);
    expect(new PhiAccrualDetector({ acceptableHeartbeatPauseMs: 0 }).options.acceptableHeartbeatPauseMs).toBe(0);
    const fd = new PhiAccrualDetector();
    expect(() => fd.heartbeat(Number.NaN)).toThrow(TypeError);
    expect(() => fd.phi(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});

describe('isAvailable fast path', () => {
  it('thresholdY is where phi(y, 0, 1) crosses the threshold', () => {
    for (const threshold of [0.5, 1, 3, 8, 12.5, 30]) {
      const y = thresholdY(threshold);
      expect(phi(y, 0, 1)).toBeGreaterThanOrEqual(threshold);
      expect(phi(y - 1e-9, 0, 1)).toBeLessThan(threshold);
    }
  });

  it('always agrees with phi(t) < threshold, for any heartbeat history and any probe time', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.double({ min: 0, max: 30_000, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.constantFrom(0.5, 1, 8, 16),
        (gaps, probes, threshold) => {
          const fd = new PhiAccrualDetector({ threshold, acceptableHeartbeatPauseMs: 1000 });
          let t = 0;
          for (const gap of gaps) {
            t += gap;
            fd.heartbeat(t);
          }
          for (const probe of probes) {
            expect(fd.isAvailable(t + probe)).toBe(fd.phi(t + probe) < threshold);
          }
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('agrees right at the crossing, where rounding could split them', () => {
    const fd = new PhiAccrualDetector();
    for (let t = 0; t <= 10_000; t += 1000) fd.heartbeat(t);
    // Find the crossing to within a microsecond, then probe around it.
    let lo = 10_000;
    let hi = 30_000;
    while (hi - lo > 1e-6) {
      const mid = (lo + hi) / 2;
      if (fd.phi(mid) >= 8) hi = mid;
      else lo = mid;
    }
    for (const probe of [lo - 1e-3, lo, hi, hi + 1e-3]) expect(fd.isAvailable(probe)).toBe(fd.phi(probe) < 8);
  });
});
