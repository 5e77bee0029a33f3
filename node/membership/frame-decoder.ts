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

/**
 * Chunks are kept as they come and joined once, when a frame is complete: a frame of
 * many megabytes (a NEW-VIEW) arrives in thousands of chunks, and joining the buffered
 * bytes with each chunk copied it over and over (quadratic; seen in the profiles).
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** The length of the frame being received (its prefix already read), or -1. */
  private expected = -1;
  private readonly maxFrameBytes: number;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** The complete frames that `chunk` finishes; throws FrameTooLargeError on a length over the limit. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.expected < 0) {
        const prefix = this.readPrefix();
        if (prefix === null) break;
        this.expected = prefix;
      }
      if (this.buffered < this.expected) break;
      frames.push(this.take(this.expected));
      this.expected = -1;
    }
    return frames;
  }

  /** Reads and drops the varint length prefix at the head, or null while it is incomplete. */
  private readPrefix(): number | null {
    // At most 4 bytes (frames are far below 2^28); they may span chunks.
    let length = 0;
    let scale = 1;
    let read = 0;
    for (const c of this.chunks) {
      for (let i = 0; i < c.length && read < 4; i++) {
        const x = c[i]!;
        read++;
        length += (x & 0x7f) * scale;
        scale *= 128;
        if (x < 0x80) {
          if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes);
          this.drop(read);
          return length;
        }
      }
      if (read >= 4) break;
    }
    if (read >= 4) throw new FrameTooLargeError(length, this.maxFrameBytes);
    return null;
  }

  /** The next `n` buffered bytes (n <= buffered), removed: a view of one chunk when it holds them all, else one copy. */
  private take(n: number): Uint8Array {
    const head = this.chunks[0];
    if (head !== undefined && head.length >= n) {
      const frame = head.subarray(0, n);
      this.drop(n);
      return frame;
    }
    const frame = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - at);
      frame.set(c.subarray(0, k), at);
      at += k;
      this.drop(k);
    }
    return frame;
  }

  /** Drops `n` bytes from the head. */
  private drop(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      if (c.length <= n) {
        this.chunks.shift();
        n -= c.length;
      } else {
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
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
