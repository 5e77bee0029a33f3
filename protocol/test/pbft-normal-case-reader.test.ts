/**
 * The single-pass reader of proposals, PREPAREs and COMMITs (normal-case-reader.ts)
 * against protobufjs: for valid frames and for thousands of damaged ones (bytes flipped,
 * cut, inserted), decodePbftMessage, which tries the reader first and then skips the
 * canonical re-encoding, accepts exactly the frames the protobufjs path alone accepts
 * (decoded, then re-encoded and compared), and with the same message.
 */
import { describe, expect, it } from 'vitest';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import { decodePbftMessage, encodePbftMessage } from '../pbft/codec.ts';
import { batchBytes, requestBodyBytes, requestBytes, voteBodyBytes, voteBytes } from '../pbft/normal-case-bytes.ts';
import { readNormalCaseFrame } from '../pbft/normal-case-reader.ts';
import { batchDigest, signPbft, signRequest } from '../pbft/sign.ts';
import type { PbftCommit, PbftMessage, PbftPrePrepare, PbftPrepare, PbftProposal } from '../pbft/types.ts';
import { expectSameAsProtobufjs, protobufjsDecode } from './pbft-differential.ts';

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

/** True if `view` lies within `frame`'s bytes (the same memory, not a copy). */
const inside = (view: Uint8Array, frame: Uint8Array): boolean =>
  view.buffer === frame.buffer &&
  view.byteOffset >= frame.byteOffset &&
  view.byteOffset + view.length <= frame.byteOffset + frame.length;

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
      [requestBodyBytes(read.batch[1]!), requestBodyBytes(fresh.batch[1]!)],
      [voteBodyBytes(read.prePrepare), voteBodyBytes(fresh.prePrepare)],
      [voteBytes(read.prePrepare), voteBytes(fresh.prePrepare)],
      [batchBytes(read.batch), batchBytes(fresh.batch)],
    ] as const) {
      expect(inside(ours!, bytes)).toBe(true);
      // Fresh bytes may share a slab of Node's Buffer pool with the frame, never its bytes.
      expect(inside(theirs!, bytes)).toBe(false);
      expect(Buffer.from(ours!).equals(Buffer.from(theirs!))).toBe(true);
    }
    // A request keeps only its body: its whole bytes are its batch's (remembered above),
    // and assembled again only when asked for alone, equal to what was read.
    const whole = requestBytes(read.batch[1]!)!;
    expect(inside(whole, bytes)).toBe(false);
    expect(Buffer.from(whole).equals(Buffer.from(requestBytes(fresh.batch[1]!)!))).toBe(true);
    expect(Buffer.from(bytes).includes(Buffer.from(whole))).toBe(true);
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
    // Some damage leaves a valid frame (a changed number or byte inside a field): both must accept it.
    expect(expectSameAsProtobufjs(frames, 42, 4000)).toBeGreaterThan(100);
  });
});
