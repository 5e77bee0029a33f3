/** What a node accepts: thresholds and limits of PCI verification. */

export interface PciPolicy {
  /** Lowest ihsan_score accepted (R003 below it). */
  ihsanThreshold: number;
  /** Lowest snr_score accepted (R004 below it). */
  snrThreshold: number;
  /** How far ahead of this node's clock a timestamp may be (R007 beyond it), in ms. */
  maxFutureSkewMs: number;
  /** Largest Envelope accepted, in wire bytes, checked before decoding (R005 above it). */
  maxEnvelopeBytes: number;
  /**
   * Longest ttl_seconds accepted (R005 above it). It bounds how long the replay cache
   * must remember an id; absent means only the wire limit (2^32 - 1 s).
   */
  maxTtlSeconds?: number;
}

export const defaultPciPolicy: Readonly<PciPolicy> = Object.freeze({
  ihsanThreshold: 0.95,
  snrThreshold: 0.85,
  maxFutureSkewMs: 30_000,
  maxEnvelopeBytes: 1024 * 1024,
  maxTtlSeconds: 86_400,
});

/** Defaults filled in and every value checked; throws RangeError naming the setting. */
export function resolvePciPolicy(policy: Partial<PciPolicy> = {}): Readonly<PciPolicy> {
  const p: PciPolicy = { ...defaultPciPolicy, ...policy };
  for (const k of ['ihsanThreshold', 'snrThreshold'] as const) {
    if (typeof p[k] !== 'number' || !(p[k] >= 0 && p[k] <= 1))
      throw new RangeError(`${k} must be in [0, 1], got ${p[k]}`);
  }
  if (!Number.isSafeInteger(p.maxFutureSkewMs) || p.maxFutureSkewMs < 0) {
    throw new RangeError(`maxFutureSkewMs must be a non-negative integer, got ${p.maxFutureSkewMs}`);
  }
  if (!Number.isSafeInteger(p.maxEnvelopeBytes) || p.maxEnvelopeBytes < 1) {
    throw new RangeError(`maxEnvelopeBytes must be a positive integer, got ${p.maxEnvelopeBytes}`);
  }
  if (p.maxTtlSeconds !== undefined && (!Number.isInteger(p.maxTtlSeconds) || p.maxTtlSeconds < 1)) {
    throw new RangeError(`maxTtlSeconds must be a positive integer or absent, got ${p.maxTtlSeconds}`);
  }
  return Object.freeze(p);
}
