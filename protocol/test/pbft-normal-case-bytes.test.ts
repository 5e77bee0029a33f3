/**
 * The hand-assembled bytes of the normal-case messages (normal-case-bytes.ts) must be
 * exactly what protobufjs writes for the same objects: every field at its default and
 * at its largest, empty batches, empty and odd-length byte fields. And they are made
 * once per object: the frame sent and the WAL record share the batch's bytes.
 */
import { describe, expect, it } from 'vitest';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import { certObj, commitCertObj, encodeBatch, encodePbftMessage, pbftMessageObject } from '../pbft/codec.ts';
import { batchBytes, replyLeafBytes, requestBodyBytes } from '../pbft/normal-case-bytes.ts';
import { loadPbftTypes } from '../pbft/schema.ts';
import { signPbft, signRequest } from '../pbft/sign.ts';
import type {
  PbftCommit,
  PbftCommitCertificate,
  PbftMessage,
  PbftPrePrepare,
  PbftPrepare,
  PbftPreparedCertificate,
  PbftRequest,
} from '../pbft/types.ts';
import { encodeWalRecord } from '../pbft/wal-record.ts';

const T = loadPbftTypes();
const MAX = Number.MAX_SAFE_INTEGER;
const key = Ed25519Signer.fromSeed(new Uint8Array(32).fill(3));
const client = Ed25519Signer.fromSeed(new Uint8Array(32).fill(8));

const protobufjsFrame = (m: PbftMessage): Uint8Array => new Uint8Array(T.message.encode(pbftMessageObject(m)).finish());

const requests: PbftRequest[] = [
  signRequest(client, 1, new Uint8Array(0)),
  signRequest(client, 127, new Uint8Array([0])),
  signRequest(client, 128, new Uint8Array(300).fill(5)),
  signRequest(client, MAX, new TextEncoder().encode('{"op":"put","key":"k","value":"v"}')),
  // Not valid requests, but still encodable: timestamp 0, no signature, a short key.
  {
    type: 'request',
    client: new Uint8Array(3),
    timestamp: 0,
    operation: new Uint8Array(0),
    signature: new Uint8Array(),
  },
];

const vote = <V extends PbftPrePrepare | PbftPrepare | PbftCommit>(
  type: V['type'],
  view: number,
  seq: number,
  replica: number,
  digest = new Uint8Array(32).fill(seq & 0xff),
): V => signPbft<V>({ type, view, seq, digest, replica } as never, key);

const votes = [
  vote<PbftPrepare>('prepare', 0, 0, 0),
  vote<PbftPrepare>('prepare', 0, 1, 1, new Uint8Array(0)),
  vote<PbftCommit>('commit', 16_384, 2 ** 35, 3),
  vote<PbftCommit>('commit', MAX, MAX, 0xffffffff),
];

describe('normal-case bytes assembled by hand', () => {
  it('equal protobufjs for requests, votes, proposals and commit certificates', () => {
    const batches: PbftRequest[][] = [[], [requests[0]!], requests];
    const messages: PbftMessage[] = [
      ...requests,
      ...votes,
      ...batches.map((batch): PbftMessage => ({ type: 'proposal', prePrepare: vote('pre-prepare', 2, 9, 2), batch })),
      ...batches.map(
        (batch): PbftMessage => ({
          type: 'commit-certificate',
          batch,
          commits: votes.filter((v): v is PbftCommit => v.type === 'commit'),
        }),
      ),
      { type: 'commit-certificate', batch: requests, commits: [] },
    ];
    for (const m of messages) expect(encodePbftMessage(m), m.type).toEqual(protobufjsFrame(m));
    for (const batch of batches) {
      const obj = pbftMessageObject({ type: 'proposal', prePrepare: votes[0] as never, batch }) as {
        proposal: { batch: object };
      };
      expect(encodeBatch(batch)).toEqual(new Uint8Array(T.batch.encode(obj.proposal.batch).finish()));
    }
  });

  it('equal protobufjs for reply leaves', () => {
    for (const r of requests) {
      const leaf = { client: r.client, timestamp: r.timestamp, result: r.operation };
      expect(replyLeafBytes(leaf)).toEqual(
        new Uint8Array(
          T.replyLeaf
            .encode(T.replyLeaf.fromObject({ clientPublicKey: r.client, timestamp: r.timestamp, result: r.operation }))
            .finish(),
        ),
      );
    }
  });

  it('equal protobufjs for the WAL records of the normal case', () => {
    const prepared: PbftPreparedCertificate = {
      prePrepare: vote('pre-prepare', 1, 5, 1),
      batch: requests.slice(0, 3),
      prepares: [vote<PbftPrepare>('prepare', 1, 5, 2), vote<PbftPrepare>('prepare', 1, 5, 3)],
    };
    const executed: PbftCommitCertificate = {
      type: 'commit-certificate',
      batch: requests.slice(1),
      commits: [vote<PbftCommit>('commit', 1, 5, 0), vote<PbftCommit>('commit', 1, 5, 2)],
    };
    const proposal: PbftMessage = { type: 'proposal', prePrepare: vote('pre-prepare', 1, 5, 1), batch: requests };
    const expectSame = (ours: Uint8Array, obj: object) =>
      expect(ours).toEqual(new Uint8Array(T.walRecord.encode(obj).finish()));
    expectSame(encodeWalRecord({ kind: 'prepared', cert: prepared }), { prepared: certObj(prepared) });
    expectSame(encodeWalRecord({ kind: 'prepared', cert: { ...prepared, prepares: [] } }), {
      prepared: certObj({ ...prepared, prepares: [] }),
    });
    expectSame(encodeWalRecord({ kind: 'executed', cert: executed }), { executed: commitCertObj(executed) });
    expectSame(encodeWalRecord({ kind: 'signed', message: proposal }), { signed: pbftMessageObject(proposal) });
    expectSame(encodeWalRecord({ kind: 'signed', message: votes[2] as PbftCommit }), {
      signed: pbftMessageObject(votes[2]!),
    });
    // Written without their batch: the hand-assembled bytes are protobufjs's for the
    // *BatchLogged members, and hold none of the batch's bytes.
    const { batch: _p, ...preparedRest } = certObj(prepared);
    expectSame(encodeWalRecord({ kind: 'prepared', cert: prepared }, true), { preparedBatchLogged: preparedRest });
    const { batch: _e, ...executedRest } = commitCertObj(executed);
    expectSame(encodeWalRecord({ kind: 'executed', cert: executed }, true), { executedBatchLogged: executedRest });
    const withBatch = encodeWalRecord({ kind: 'executed', cert: executed }).length;
    expect(encodeWalRecord({ kind: 'executed', cert: executed }, true).length).toBeLessThan(
      withBatch - encodeBatch(executed.batch).length,
    );
  });

  it('encodes a batch once: the digest, the frame and the WAL record embed the same bytes', () => {
    const batch = requests.slice(0, 4);
    const bytes = batchBytes(batch)!;
    expect(batchBytes(batch)).toBe(bytes);
    expect(encodeBatch(batch)).toBe(bytes);
    const frame = encodePbftMessage({ type: 'proposal', prePrepare: vote('pre-prepare', 0, 1, 0), batch });
    expect(Buffer.from(frame).indexOf(Buffer.from(bytes))).toBeGreaterThan(0);
    expect(requestBodyBytes(batch[0]!)).toBe(requestBodyBytes(batch[0]!));
  });

  it('leaves numbers no valid message has to protobufjs (which refuses or wraps them its own way)', () => {
    const odd = { ...requests[1]!, timestamp: -1 };
    expect(requestBodyBytes(odd)).toBeNull();
    expect(encodePbftMessage(odd)).toEqual(protobufjsFrame(odd));
  });
});
