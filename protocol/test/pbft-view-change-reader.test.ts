/**
 * The single-pass reader of VIEW-CHANGE and NEW-VIEW frames (view-change-reader.ts)
 * against protobufjs: for valid frames and for thousands of damaged ones (bytes flipped,
 * cut, inserted), decodePbftMessage, which tries the reader first and then skips the
 * canonical re-encoding, accepts exactly the frames the protobufjs path alone accepts
 * (decoded, then re-encoded and compared), and with the same message; and the signed
 * bodies it keeps give the same digests as encoding the messages again.
 */
import { describe, expect, it } from 'vitest';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import { decodePbftMessage, encodePbftMessage } from '../pbft/codec.ts';
import { signedDigest, signPbft, viewChangeRef } from '../pbft/sign.ts';
import type {
  PbftCheckpoint,
  PbftMessage,
  PbftNewView,
  PbftPrePrepare,
  PbftPrepare,
  PbftViewChange,
} from '../pbft/types.ts';
import { readViewChangeFrame } from '../pbft/view-change-reader.ts';
import { expectSameAsProtobufjs, protobufjsDecode } from './pbft-differential.ts';

const keys = [1, 2, 3, 4].map((i) => Ed25519Signer.fromSeed(new Uint8Array(32).fill(i)));
const digest = new Uint8Array(32).fill(9);
const vote = <V extends PbftPrePrepare | PbftPrepare>(type: V['type'], view: number, seq: number, replica: number) =>
  signPbft<V>({ type, view, seq, digest, replica } as never, keys[replica]!);
const checkpoint = (seq: number, replica: number): PbftCheckpoint =>
  signPbft<PbftCheckpoint>(
    { type: 'checkpoint', seq, stateDigest: new Uint8Array(32).fill(seq & 0xff), replica },
    keys[replica]!,
  );
const viewChange = (replica: number, newView: number, withProofs: boolean): PbftViewChange =>
  signPbft<PbftViewChange>(
    {
      type: 'view-change',
      newView,
      checkpointSeq: withProofs ? 128 : 0,
      checkpointProof: withProofs ? [0, 1, 2].map((r) => checkpoint(128, r)) : [],
      prepared: withProofs
        ? [129, 130].map((seq) => ({
            prePrepare: vote<PbftPrePrepare>('pre-prepare', 0, seq, 0),
            prepares: [1, 2].map((r) => vote<PbftPrepare>('prepare', 0, seq, r)),
          }))
        : [],
      replica,
    },
    keys[replica]!,
  );
const vcs = [viewChange(0, 1, true), viewChange(2, 1, false), viewChange(3, 1, true)];
const newView = signPbft<PbftNewView>(
  {
    type: 'new-view',
    view: 1,
    // Replica 0's ref leaves its replica out (a default): the reader must read that too.
    viewChanges: vcs.map(viewChangeRef),
    prePrepares: [129, 130].map((seq) => vote<PbftPrePrepare>('pre-prepare', 1, seq, 1)),
    replica: 1,
  },
  keys[1]!,
);
const frames: PbftMessage[] = [
  ...vcs,
  viewChange(0, 2 ** 40, false),
  newView,
  signPbft<PbftNewView>({ type: 'new-view', view: 5, viewChanges: [], prePrepares: [], replica: 1 }, keys[1]!),
];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('view-change reader', () => {
  it('reads what protobufjs reads from valid frames, with the signed digests of the messages', () => {
    for (const m of frames) {
      const bytes = encodePbftMessage(m);
      const read = readViewChangeFrame(bytes);
      expect(read, m.type).toEqual(m);
      expect(decodePbftMessage(bytes)).toEqual({ ok: true, message: m });
      // The kept bodies (views into the frame) hash as the encoded bodies of a fresh copy.
      expect(hex(signedDigest(read as PbftNewView))).toBe(hex(signedDigest(structuredClone(m) as PbftNewView)));
      if (read?.type === 'view-change') {
        for (const cp of read.checkpointProof)
          expect(hex(signedDigest(cp))).toBe(hex(signedDigest(structuredClone(cp))));
      }
      if (read?.type === 'new-view') {
        // Each ref is the digest the named VIEW-CHANGE's signature covers.
        for (const [i, ref] of read.viewChanges.entries()) {
          expect(ref.replica).toBe(vcs[i]!.replica);
          expect(hex(ref.digest)).toBe(hex(signedDigest(structuredClone(vcs[i]!))));
        }
      }
    }
    expect(readViewChangeFrame(encodePbftMessage(vote<PbftPrepare>('prepare', 0, 1, 1)))).toBeNull();
    expect(readViewChangeFrame(new Uint8Array(0))).toBeNull();
  });

  it('leaves a written-out default and a padded varint to the general path, which refuses them', () => {
    const vc = encodePbftMessage(viewChange(2, 1, false));
    // 0x32 len, 0x0a len body (0x08 0x01 newView, 0x28 0x02 replica), 0x12 0x40 signature.
    const body = [...vc.subarray(4, 4 + vc[3]!)];
    expect(body).toEqual([0x08, 0x01, 0x28, 0x02]);
    const rewrap = (b: number[]): Uint8Array => {
      const inner = [0x0a, b.length, ...b, ...vc.subarray(4 + vc[3]!)];
      return Uint8Array.from([0x32, inner.length, ...inner]);
    };
    expect(readViewChangeFrame(rewrap(body))).toEqual(viewChange(2, 1, false));
    for (const [what, bytes] of [
      ['checkpoint sequence 0 written out', rewrap([0x08, 0x01, 0x10, 0x00, 0x28, 0x02])],
      ['new view padded', rewrap([0x08, 0x81, 0x00, 0x28, 0x02])],
      ['fields out of order', rewrap([0x28, 0x02, 0x08, 0x01])],
    ] as const) {
      expect(readViewChangeFrame(bytes), what).toBeNull();
      expect(decodePbftMessage(bytes).ok, what).toBe(false);
      expect(protobufjsDecode(bytes), what).toBeNull();
    }
  });

  it('accepts a damaged frame exactly when protobufjs does, with the same message', () => {
    // Some damage leaves a valid frame (a changed number or byte inside a field): both must accept it.
    expect(expectSameAsProtobufjs(frames, 7, 3000)).toBeGreaterThan(100);
  });
});
