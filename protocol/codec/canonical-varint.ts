/**
 * The one primitive the single-pass canonical readers (PCI bodies, heartbeats) share:
 * a minimal varint. Canonical bytes leave the reader no choice, so it checks each
 * byte where the encoder puts it instead of decoding and re-encoding.
 */

/** Where a read stands in the bytes: one per read, so concurrent readers never share it. */
export interface Cursor {
  at: number;
}

/**
 * The minimal varint of at most `maxBytes` bytes at `c.at`, ending before `end`, moving
 * `c.at` past it; -1 if it runs past `end`, is longer, or is padded (a multi-byte
 * varint whose last byte is 0). Values stay below 2^56, exact enough for the range
 * checks callers make (any value >= 2^53 still compares as >= 2^53).
 */
export function minimalVarint(c: Cursor, b: Uint8Array, end: number, maxBytes: number): number {
  let value = 0;
  let scale = 1;
  const last = Math.min(c.at + maxBytes, end);
  for (let p = c.at; p < last; p++) {
    const x = b[p]!;
    if (x < 0x80) {
      if (x === 0 && p > c.at) return -1;
      c.at = p + 1;
      return value + x * scale;
    }
    value += (x & 0x7f) * scale;
    scale *= 128;
  }
  return -1;
}
