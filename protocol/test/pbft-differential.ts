/**
 * The differential check the one-pass readers' tests share (normal-case-reader.ts,
 * view-change-reader.ts): decodePbftMessage, which tries the readers first and then
 * skips the canonical re-encoding, against protobufjs alone (decoded, structure rules,
 * re-encoded and compared), over frames damaged by a seeded stream of edits.
 */
import { expect } from 'vitest';
import {
  decodePbftMessage,
  encodePbftMessage,
  type Obj,
  pbftMessageFromObject,
  sameBytes,
  TO_OBJECT,
} from '../pbft/codec.ts';
import { loadPbftTypes } from '../pbft/schema.ts';
import { pbftStructureProblem } from '../pbft/structure.ts';
import type { PbftMessage } from '../pbft/types.ts';

const T = loadPbftTypes();

/** decodePbftMessage without the readers: protobufjs, the structure rules, the canonical check. */
export function protobufjsDecode(bytes: Uint8Array): PbftMessage | null {
  try {
    const m = pbftMessageFromObject(T.message.toObject(T.message.decode(bytes), TO_OBJECT) as Obj);
    if (pbftStructureProblem(m) !== null) return null;
    return sameBytes(encodePbftMessage(m), bytes) ? m : null;
  } catch {
    return null;
  }
}

/** A deterministic stream of small numbers. */
function* prng(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) >>> 0;
    yield x >>> 8;
  }
}

/**
 * Damages `frames` (1-3 bytes flipped, cut or inserted each) `cases` times and expects
 * decodePbftMessage to accept exactly what protobufjsDecode accepts, with the same
 * message; returns how many damaged frames both accepted.
 */
export function expectSameAsProtobufjs(frames: readonly PbftMessage[], seed: number, cases: number): number {
  const rand = prng(seed);
  const next = (n: number) => rand.next().value % n;
  const encoded = frames.map((m) => encodePbftMessage(m));
  let accepted = 0;
  for (let i = 0; i < cases; i++) {
    const b = Array.from(encoded[i % encoded.length]!);
    const edits = 1 + next(3);
    for (let e = 0; e < edits; e++) {
      const at = next(b.length + 1);
      const kind = next(3);
      if (kind === 0 && at < b.length) b[at] = next(256);
      else if (kind === 1) b.splice(at, 1 + next(4));
      else b.splice(at, 0, next(256));
    }
    const bytes = Uint8Array.from(b);
    const ours = decodePbftMessage(bytes);
    const theirs = protobufjsDecode(bytes);
    expect(ours.ok, `case ${i}`).toBe(theirs !== null);
    if (ours.ok) {
      expect(ours.message).toEqual(theirs);
      accepted++;
    }
  }
  return accepted;
}
