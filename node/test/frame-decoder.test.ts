import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameTooLargeError, lengthPrefixed } from '../membership/frame-decoder.ts';

describe('FrameDecoder', () => {
  it('gives back every frame, however the byte stream is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 400 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map(lengthPrefixed));
          const decoder = new FrameDecoder(1000);
          const out: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const size = cuts[i % cuts.length] as number;
            out.push(...decoder.push(stream.subarray(at, at + size)));
            at += size;
          }
          expect(out.map((f) => Buffer.from(f))).toEqual(frames.map((f) => Buffer.from(f)));
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });

  it('refuses a length over the limit before the frame arrives, and a runaway length prefix', () => {
    expect(() => new FrameDecoder(100).push(lengthPrefixed(new Uint8Array(101)).subarray(0, 2))).toThrow(
      FrameTooLargeError,
    );
    expect(() => new FrameDecoder(100).push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/exceeds/);
  });

  it('writes minimal varint prefixes', () => {
    expect([...lengthPrefixed(new Uint8Array(0))]).toEqual([0]);
    expect([...lengthPrefixed(new Uint8Array(127)).subarray(0, 1)]).toEqual([127]);
    expect([...lengthPrefixed(new Uint8Array(300)).subarray(0, 2)]).toEqual([0xac, 0x02]);
  });
});
