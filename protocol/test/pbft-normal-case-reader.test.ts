/**
 * The single-pass reader of proposals, PREPAREs and COMMITs (normal-case-reader.ts)
 * against protobufjs: for valid frames and for thousands of damaged ones (bytes flipped,
 * cut, inserted), decodePbftMessage, which tries the reader first and then skips the
 * canonical re-encoding, accepts exactly the frames the protobufjs path alone accepts
 * (decoded, then re-encoded and compared), and with the same message.
 */
import { describe, expect, it } from 'vitest';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import {
  decodePbftMessage,
  encodePbftMessage,
  type Obj,
  pbftMessageFromObject,
  sameBytes,
  TO_OBJECT,
} from '../pbft/codec.ts';
import { batchBytes, requestBodyBytes, requestBytes, voteBodyBytes } from '../pbft/normal-case-bytes.ts';
import { readNormalCaseFrame } from '../pbft/normal-case-reader.ts';
import { loadPbftTypes } from '../pbft/schema.ts';
import { batchDigest, signPbft, signRequest } from '../pbft/sign.ts';
import { pbftStructureProblem } from '../pbft/structure.ts';
import type { PbftCommit, PbftMessage, PbftPrePrepare, PbftPrepare, PbftProposal } from '../pbft/types.ts';

const T = loadPbftTypes();
const key = Ed25519Signer.fromSeed(new Uint8Array(32).fill(4));
const client = Ed25519Signer.fromSeed(new Uint8Array(32).fill(6));
const batch = [0, 1, 2].map((i) => signRequest(client, 1_700_000_000_000 + i, new Uint8Array(i * 40).fill(i)));
const digest = batchDigest(batch);
const vote = <V extends PbftPrePrepare | PbftPrepare | PbftCommit>(type: V['type'], view: number, seq: number) =>
  signPbft<V>({ type, view, seq, digest, replica: 1 } as never, key);

const frames: PbftMessage[] = [
  { type: 'proposal', prePrepare: vote('pre-prepare', 0, 1), batch },
  { type: 'proposal', prePrepare: vote('pre-prepare', 3, 2 ** 40), batch: [] },
  vote<PbftPrepare>('prepare', 0, 0),
  vote<PbftPrepare>('prepare', 7, 300),
  vote<PbftCommit>('commit', 2 ** 33, 5),
];

/** decodePbftMessage without the reader: protobufjs, the structure rules, the canonical check. */
function protobufjsDecode(bytes: Uint8Array): PbftMessage | null {
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

describe('normal-case reader', () => {
  it('reads what protobufjs reads from valid frames, and leaves other kinds alone', () => {
    for (const m of frames) {
      const bytes = encodePbftMessage(m);
      expect(readNormalCaseFrame(bytes), m.type).toEqual(m);
      expect(decodePbftMessage(bytes)).toEqual({ ok: true, message: m });
    }
    expect(readNormalCaseFrame(encodePbftMessage(batch[0]!))).toBeNull(); // a REQUEST frame
    expect(readNormalCaseFrame(new Uint8Array(0))).toBeNull();
  });

  it("keeps the bytes it read as the messages' own: views into the frame, equal to what assembling gives", () => {
    const m = frames[0] as PbftProposal;
    const bytes = encodePbftMessage(m);
    const read = readNormalCaseFrame(bytes) as PbftProposal;
    const fresh = structuredClone(read); // the same message, with nothing remembered
    for (const [ours, theirs] of [
      [requestBytes(read.batch[1]!), requestBytes(fresh.batch[1]!)],
      [requestBodyBytes(read.batch[1]!), requestBodyBytes(fresh.batch[1]!)],
      [voteBodyBytes(read.prePrepare), voteBodyBytes(fresh.prePrepare)],
      [batchBytes(read.batch), batchBytes(fresh.batch)],
    ] as const) {
      expect(ours!.buffer).toBe(bytes.buffer);
      expect(theirs!.buffer).not.toBe(bytes.buffer);
      expect(Buffer.from(ours!).equals(Buffer.from(theirs!))).toBe(true);
    }
  });

  it('reads only the canonical form: a written-out zero or empty value, or a padded varint, goes to the general path, which refuses it', () => {
    const prepare = encodePbftMessage(vote<PbftPrepare>('prepare', 0, 300));
    // The frame: 0x1a len, PbftPrepare: 0x0a len body (0x10 seq, 0x1a 0x20 digest, 0x20 0x01 replica), 0x12 0x40 signature.
    expect([...prepare.subarray(0, 5)]).toEqual([0x1a, prepare.length - 2, 0x0a, prepare[3], 0x10]);
    const rewrap = (body: number[]): Uint8Array => {
      const bodyLen = prepare[3]!;
      const inner = [0x0a, body.length, ...body, ...prepare.subarray(4 + bodyLen)];
      return Uint8Array.from([0x1a, inner.length, ...inner]);
    };
    const body = [...prepare.subarray(4, 4 + prepare[3]!)];
    const cases: [string, Uint8Array][] = [
      ['view 0 written out', rewrap([0x08, 0x00, ...body])],
      ['seq padded to three bytes', rewrap([0x10, 0xac, 0x82, 0x00, ...body.slice(3)])],
      ['empty digest written out after the real one', rewrap([...body.slice(0, 3), 0x1a, 0x00, ...body.slice(3)])],
      ['outer length padded', Uint8Array.from([0x1a, 0x80 | (prepare.length - 2), 0x00, ...prepare.subarray(2)])],
    ];
    expect(readNormalCaseFrame(rewrap(body))).toEqual(vote<PbftPrepare>('prepare', 0, 300)); // the rewrap itself is exact
    for (const [what, bytes] of cases) {
      expect(readNormalCaseFrame(bytes), what).toBeNull();
      expect(decodePbftMessage(bytes).ok, what).toBe(false);
      expect(protobufjsDecode(bytes), what).toBeNull();
    }
  });

  it('accepts a damaged frame exactly when protobufjs does, with the same message', () => {
    const rand = prng(42);
    const next = (n: number) => rand.next().value % n;
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      const base = encodePbftMessage(frames[i % frames.length]!);
      const b = Array.from(base);
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
    // Some damage leaves a valid frame (a changed number or byte inside a field): both must accept it.
    expect(accepted).toBeGreaterThan(100);
  });
});
