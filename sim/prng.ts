/**
 * Seeded pseudo-random numbers for the synthetic population and the synthetic IO table.
 *
 * mulberry32 (Tommy Ettinger, public domain): 32-bit state, integer-only steps (Math.imul,
 * shifts, xor), so the stream is the same on every machine. A draw in [0, 1) is the 32-bit
 * output divided by 2^32, which is exact in a double: no rounding differs between machines.
 */
export interface Prng {
  /** The next 32-bit unsigned integer. */
  nextUint32(): number;
  /** The next number in [0, 1): a multiple of 2^-32. */
  next(): number;
}

const TWO_POW_32 = 4294967296;

export function mulberry32(seed: number): Prng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`PRNG seed must be a safe integer, got ${seed}`);
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { nextUint32, next: () => nextUint32() / TWO_POW_32 };
}
