/**
 * Splits a byte stream into varint-length-prefixed frames as chunks arrive, without
 * awaiting per frame (lpStream reads its length prefix a byte at a time through a
 * promise each, which a relay moving thousands of frames a second cannot afford).
 */
export class FrameTooLargeError extends Error {
  constructor(length: number, max: number) {
    super(`frame of ${length} bytes exceeds the limit of ${max}`);
    this.name = 'FrameTooLargeError';
  }
}

const EMPTY = new Uint8Array(0);

export class FrameDecoder {
  private buffered: Uint8Array = EMPTY;
  private readonly maxFrameBytes: number;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** The complete frames that `chunk` finishes; throws FrameTooLargeError on a length over the limit. */
  push(chunk: Uint8Array): Uint8Array[] {
    const b = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: Uint8Array[] = [];
    let at = 0;
    for (;;) {
      // The length prefix: a varint of at most 4 bytes (frames are far below 2^28).
      let length = 0;
      let scale = 1;
      let p = at;
      let complete = false;
      while (p < b.length && p - at < 4) {
        const x = b[p++]!;
        length += (x & 0x7f) * scale;
        scale *= 128;
        if (x < 0x80) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (p - at >= 4) throw new FrameTooLargeError(length, this.maxFrameBytes);
        break;
      }
      if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes);
      if (b.length - p < length) break;
      frames.push(b.subarray(p, p + length));
      at = p + length;
    }
    // Keep only the unfinished tail (copied, so a large chunk is not pinned by a few bytes).
    this.buffered = at === b.length ? EMPTY : new Uint8Array(b.subarray(at));
    return frames;
  }
}

/** `frame` with its varint length prefix, ready for `stream.send`. */
export function lengthPrefixed(frame: Uint8Array): Uint8Array {
  let n = frame.length;
  const prefix: number[] = [];
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  prefix.push(n);
  const out = new Uint8Array(prefix.length + frame.length);
  out.set(prefix, 0);
  out.set(frame, prefix.length);
  return out;
}
