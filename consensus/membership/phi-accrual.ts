/**
 * The phi-accrual failure detector (Hayashibara et al. 2004) as Akka implements it
 * (akka.remote.PhiAccrualFailureDetector and HeartbeatHistory). Pure: no timers, no
 * I/O, no clock. The caller passes the time in milliseconds, from a monotonic clock.
 *
 * φ(t) = −log10(1 − F(t)), where t is the time since the last heartbeat and F is the
 * normal CDF with mean = (mean heartbeat interval + acceptable pause) and
 * σ = max(σ of the intervals, min σ), approximated by Akka's logistic function
 * F(y) ≈ 1 / (1 + exp(−y·(1.5976 + 0.070566·y²))), y = (t − mean) / σ.
 */

export interface PhiAccrualOptions {
  /** φ at or above which the peer is taken to be unavailable. */
  threshold: number;
  /** How many recent heartbeat intervals the statistics cover. */
  maxSampleSize: number;
  /** Floor for σ, so that very regular heartbeats do not make φ over-sensitive. */
  minStdDeviationMs: number;
  /** Heartbeats this late (lost or delayed) are still normal: added to the mean. */
  acceptableHeartbeatPauseMs: number;
  /** The heartbeat interval: seeds the statistics on the first heartbeat. */
  firstHeartbeatEstimateMs: number;
}

/** Akka's defaults (akka.remote.watch-failure-detector), with a 1 s heartbeat interval. */
export const defaultPhiAccrualOptions: Readonly<PhiAccrualOptions> = Object.freeze({
  threshold: 8,
  maxSampleSize: 1000,
  minStdDeviationMs: 100,
  acceptableHeartbeatPauseMs: 3000,
  firstHeartbeatEstimateMs: 1000,
});

/** Fills in defaults and checks every option; throws a RangeError that names the bad one. */
export function resolvePhiAccrualOptions(opts: Partial<PhiAccrualOptions> = {}): PhiAccrualOptions {
  const o: PhiAccrualOptions = { ...defaultPhiAccrualOptions, ...stripUndefined(opts) };
  const positive = (name: keyof PhiAccrualOptions, v: number, allowZero = false): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
      throw new RangeError(
        `phi-accrual option ${name} must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${v}`,
      );
    }
  };
  positive('threshold', o.threshold);
  positive('minStdDeviationMs', o.minStdDeviationMs);
  positive('acceptableHeartbeatPauseMs', o.acceptableHeartbeatPauseMs, true);
  positive('firstHeartbeatEstimateMs', o.firstHeartbeatEstimateMs);
  if (!Number.isSafeInteger(o.maxSampleSize) || o.maxSampleSize < 1) {
    throw new RangeError(`phi-accrual option maxSampleSize must be an integer >= 1, got ${o.maxSampleSize}`);
  }
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * φ for a time since the last heartbeat, given the mean and σ of the expected arrival
 * (Akka's `phi(timeDiff, mean, stdDeviation)`; the detector passes mean + acceptable pause).
 *
 * Akka writes it as −log10(e/(1+e)) for t > mean and −log10(1 − 1/(1+e)) otherwise, with
 * e = exp(−z), z = y·(1.5976 + 0.070566·y²). Both are log10(1 + exp(z)); we evaluate that
 * as a stable softplus, which agrees with Akka's expressions to rounding wherever they are
 * finite, but stays finite (Akka's reaches +Infinity once e underflows, about 25σ past the
 * mean) and is monotone in t with no seam at t = mean.
 */
export function phi(timeSinceLastMs: number, meanMs: number, stdDevMs: number): number {
  const y = (timeSinceLastMs - meanMs) / stdDevMs;
  const z = y * (1.5976 + 0.070566 * y * y);
  const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
  return softplus / Math.LN10 + 0; // + 0 turns −0 into 0
}

/**
 * Recent heartbeat intervals in a ring buffer of maxSampleSize, with a running sum and
 * sum of squares: O(1) per heartbeat. Mean and variance are population statistics
 * (divide by n), as in Akka.
 */
export class HeartbeatHistory {
  readonly maxSampleSize: number;
  #intervals: Float64Array;
  #next = 0;
  #count = 0;
  #sum = 0;
  #sumOfSquares = 0;

  constructor(maxSampleSize: number) {
    if (!Number.isSafeInteger(maxSampleSize) || maxSampleSize < 1) {
      throw new RangeError(`maxSampleSize must be an integer >= 1, got ${maxSampleSize}`);
    }
    this.maxSampleSize = maxSampleSize;
    this.#intervals = new Float64Array(maxSampleSize);
  }

  /** Appends an interval, dropping the oldest when full. */
  add(intervalMs: number): void {
    if (this.#count === this.maxSampleSize) {
      const oldest = this.#intervals[this.#next]!;
      this.#sum -= oldest;
      this.#sumOfSquares -= oldest * oldest;
    } else {
      this.#count++;
    }
    this.#intervals[this.#next] = intervalMs;
    this.#next = (this.#next + 1) % this.maxSampleSize;
    this.#sum += intervalMs;
    this.#sumOfSquares += intervalMs * intervalMs;
  }

  get count(): number {
    return this.#count;
  }

  /** NaN when empty (Akka throws); the detector always seeds two samples first. */
  get mean(): number {
    return this.#sum / this.#count;
  }

  /** Clamped at 0: the running sums can leave a tiny negative rounding residue. */
  get variance(): number {
    const mean = this.mean;
    return Math.max(0, this.#sumOfSquares / this.#count - mean * mean);
  }

  get stdDeviation(): number {
    return Math.sqrt(this.variance);
  }

  /** The intervals, oldest first (for tests and debugging; O(n)). */
  intervals(): number[] {
    const out: number[] = [];
    const start = this.#count === this.maxSampleSize ? this.#next : 0;
    for (let i = 0; i < this.#count; i++) out.push(this.#intervals[(start + i) % this.maxSampleSize]!);
    return out;
  }
}

export interface HeartbeatHistoryStats {
  mean: number;
  variance: number;
  stdDeviation: number;
  count: number;
}

/** One monitored peer's detector. Holds no clock: every call takes `nowMs`. */
export class PhiAccrualDetector {
  readonly options: Readonly<PhiAccrualOptions>;
  #history: HeartbeatHistory;
  #lastHeartbeatMs: number | undefined = undefined;
  /** The y = (t − mean) / σ at which φ reaches the threshold (φ is increasing in y). */
  readonly #thresholdY: number;
  /**
   * Before this time φ is certainly below the threshold; cached until the history or the
   * last heartbeat changes. Lets isAvailable skip the logarithms for the healthy peers a
   * view checks ten times a second (N of them, on every one of N nodes in a testnet).
   */
  #availableUntilMs: number | undefined = undefined;

  constructor(opts: Partial<PhiAccrualOptions> = {}) {
    this.options = Object.freeze(resolvePhiAccrualOptions(opts));
    this.#history = this.#seededHistory();
    this.#thresholdY = thresholdY(this.options.threshold);
  }

  /**
   * Akka's bootstrap: two samples, mean ± mean/4, so a peer that sends one heartbeat and
   * stops still becomes unavailable, with a wide σ while nothing is known.
   */
  #seededHistory(): HeartbeatHistory {
    const h = new HeartbeatHistory(this.options.maxSampleSize);
    const mean = this.options.firstHeartbeatEstimateMs;
    const stdDeviation = mean / 4;
    h.add(mean - stdDeviation);
    h.add(mean + stdDeviation);
    return h;
  }

  /** Whether any heartbeat has been recorded (Akka's isMonitoring). */
  get isMonitoring(): boolean {
    return this.#lastHeartbeatMs !== undefined;
  }

  /** The time of the last heartbeat, as the detector counts it (see compensatePause). */
  get lastHeartbeatMs(): number | undefined {
    return this.#lastHeartbeatMs;
  }

  get history(): HeartbeatHistoryStats {
    const h = this.#history;
    return { mean: h.mean, variance: h.variance, stdDeviation: h.stdDeviation, count: h.count };
  }

  /** The recorded intervals, oldest first (seed samples included). */
  intervals(): number[] {
    return this.#history.intervals();
  }

  /**
   * Records a heartbeat. As in Akka, the interval is added to the history only if the
   * peer was still available at that moment: the first heartbeat after a failure (a long
   * gap) would skew the statistics. A clock that went backwards counts as a 0 ms interval.
   */
  heartbeat(nowMs: number): void {
    checkTime(nowMs);
    const last = this.#lastHeartbeatMs;
    if (last === undefined) {
      this.#history = this.#seededHistory();
    } else if (this.isAvailable(nowMs)) {
      this.#history.add(Math.max(0, nowMs - last));
    }
    this.#lastHeartbeatMs = last === undefined ? nowMs : Math.max(last, nowMs);
    this.#availableUntilMs = undefined;
  }

  /** φ at `nowMs`; 0 before the first heartbeat (an unmonitored peer is healthy). */
  phi(nowMs: number): number {
    checkTime(nowMs);
    const last = this.#lastHeartbeatMs;
    if (last === undefined) return 0;
    const h = this.#history;
    return phi(nowMs - last, h.mean + this.options.acceptableHeartbeatPauseMs, this.#stdDeviation());
  }

  /** φ(nowMs) < threshold, computed as that, but without φ while nowMs is clearly early. */
  isAvailable(nowMs: number): boolean {
    checkTime(nowMs);
    if (nowMs < this.availableUntilMs()) return true;
    return this.phi(nowMs) < this.options.threshold;
  }

  /**
   * A time before which φ is certainly below the threshold, if no heartbeat comes
   * (just under the exact crossing; +Infinity before the first heartbeat, when φ is 0).
   * Lets a caller that watches many peers sleep until the earliest of these.
   */
  availableUntilMs(): number {
    const last = this.#lastHeartbeatMs;
    if (last === undefined) return 0 < this.options.threshold ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    if (this.#availableUntilMs === undefined) {
      // A margin of 1e-6 σ below the exact crossing absorbs rounding; past it, φ decides.
      const mean = this.#history.mean + this.options.acceptableHeartbeatPauseMs;
      this.#availableUntilMs = last + mean + (this.#thresholdY - 1e-6) * this.#stdDeviation();
    }
    return this.#availableUntilMs;
  }

  /**
   * Excludes a local pause from the time since the last heartbeat: if the last heartbeat
   * was recorded before the pause began (before nowMs − pauseMs), it is moved forward by
   * pauseMs, as if this process had kept listening. A heartbeat recorded after the pause
   * (they queue up while the event loop is blocked) is left alone.
   */
  compensatePause(nowMs: number, pauseMs: number): void {
    checkTime(nowMs);
    if (!Number.isFinite(pauseMs) || pauseMs <= 0) return;
    const last = this.#lastHeartbeatMs;
    if (last !== undefined && last + pauseMs <= nowMs) this.#lastHeartbeatMs = last + pauseMs;
    this.#availableUntilMs = undefined;
  }

  /** Forgets everything: the next heartbeat seeds a fresh history (a restarted peer). */
  reset(): void {
    this.#lastHeartbeatMs = undefined;
    this.#history = this.#seededHistory();
    this.#availableUntilMs = undefined;
  }

  #stdDeviation(): number {
    return Math.max(this.#history.stdDeviation, this.options.minStdDeviationMs);
  }
}

/**
 * The smallest y (to within 1e-12) with phi(y, 0, 1) >= threshold, by bisection on the
 * same function the detector evaluates, so the two can only disagree by rounding.
 */
export function thresholdY(threshold: number): number {
  let lo = -64;
  let hi = 64;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (phi(mid, 0, 1) >= threshold) hi = mid;
    else lo = mid;
  }
  return hi;
}

function checkTime(nowMs: number): void {
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
    throw new TypeError(`time must be a finite number of milliseconds, got ${String(nowMs)}`);
  }
}
