/**
 * PBFT messages on the wire: every kind round-trips, protoc re-encodes our bytes to the
 * same bytes (so the canonical form is the standard one), non-canonical or malformed
 * bytes are refused with a reason, and the domain tags keep one kind's signature from
 * passing for another's.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PROTO_PATH } from '../codec/schema.ts';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import { decodePbftMessage, decodeSnapshot, encodePbftMessage, encodeSnapshot, sameBytes } from '../pbft/codec.ts';
import { batchDigest, signedDigest, signPbft, signRequest } from '../pbft/sign.ts';
import type {
  PbftCheckpoint,
  PbftCommit,
  PbftCommitCertificate,
  PbftMessage,
  PbftNewView,
  PbftPrePrepare,
  PbftPrepare,
  PbftReply,
  PbftRequest,
  PbftStatus,
  PbftViewChange,
} from '../pbft/types.ts';
import { PbftVerifier } from '../pbft/verifier.ts';
import { decodeWalRecord, encodeWalRecord, type PbftWalRecord } from '../pbft/wal-record.ts';

const keys = Array.from({ length: 4 }, (_, i) => Ed25519Signer.fromSeed(new Uint8Array(32).fill(i + 1)));
const client = Ed25519Signer.fromSeed(new Uint8Array(32).fill(9));
const req = signRequest(client, 1767225600000, new TextEncoder().encode('{"op":"put","key":"a","value":"b"}'));
const batch = [req, signRequest(client, 1767225600001, new Uint8Array([1, 2, 3]))];
const digest = batchDigest(batch);
const vote = <T extends PbftPrePrepare | PbftPrepare | PbftCommit>(
  type: T['type'],
  replica: number,
  view = 0,
  seq = 1,
) => signPbft<T>({ type, view, seq, digest, replica } as never, keys[replica]!);
const checkpoint = (replica: number): PbftCheckpoint =>
  signPbft<PbftCheckpoint>(
    { type: 'checkpoint', seq: 128, stateDigest: new Uint8Array(32).fill(4), replica },
    keys[replica]!,
  );
const cert = {
  prePrepare: vote<PbftPrePrepare>('pre-prepare', 0, 0, 129),
  batch,
  prepares: [1, 2].map((r) => vote<PbftPrepare>('prepare', r, 0, 129)),
};
const viewChange = signPbft<PbftViewChange>(
  {
    type: 'view-change',
    newView: 1,
    checkpointSeq: 128,
    checkpointProof: [0, 1, 2].map(checkpoint),
    prepared: [cert],
    replica: 3,
  },
  keys[3]!,
);
const newView = signPbft<PbftNewView>(
  {
    type: 'new-view',
    view: 1,
    viewChanges: [viewChange],
    prePrepares: [signPbft<PbftPrePrepare>({ type: 'pre-prepare', view: 1, seq: 129, digest, replica: 1 }, keys[1]!)],
    replica: 1,
  },
  keys[1]!,
);
const snapshot = encodeSnapshot({
  appState: new Uint8Array([7, 7]),
  clients: [{ client: client.publicKey, timestamp: 5, result: new Uint8Array([1]) }],
});

const samples: PbftMessage[] = [
  req,
  { type: 'proposal', prePrepare: vote<PbftPrePrepare>('pre-prepare', 0), batch },
  {
    type: 'proposal',
    prePrepare: signPbft<PbftPrePrepare>(
      { type: 'pre-prepare', view: 2, seq: 7, digest: batchDigest([]), replica: 2 },
      keys[2]!,
    ),
    batch: [],
  },
  vote<PbftPrepare>('prepare', 1),
  vote<PbftCommit>('commit', 0),
  checkpoint(2),
  viewChange,
  newView,
  signPbft<PbftReply>(
    { type: 'reply', view: 1, timestamp: 3, client: client.publicKey, replica: 0, result: new Uint8Array() },
    keys[0]!,
  ),
  signPbft<PbftStatus>(
    { type: 'status', view: 3, active: true, lastExecuted: 1000, stableCheckpoint: 896, replica: 2 },
    keys[2]!,
  ),
  { type: 'commit-certificate', batch, commits: [0, 1, 3].map((r) => vote<PbftCommit>('commit', r)) },
  { type: 'state-transfer', proof: [0, 1, 2].map(checkpoint), snapshot },
];

describe('PBFT codec', () => {
  it('round-trips every kind of message', () => {
    for (const m of samples) {
      const bytes = encodePbftMessage(m);
      const back = decodePbftMessage(bytes);
      expect(back, m.type).toEqual({ ok: true, message: m });
      if (back.ok) expect(encodePbftMessage(back.message)).toEqual(bytes);
    }
  });

  it('protoc decodes our frames and re-encodes them to the same bytes', (ctx) => {
    let available = true;
    try {
      execFileSync('protoc', ['--version'], { stdio: 'ignore' });
    } catch {
      available = false;
    }
    ctx.skip(!available, 'protoc is not on PATH (Debian: apt-get install -y protobuf-compiler)');
    const dir = PROTO_PATH.slice(0, PROTO_PATH.lastIndexOf('/'));
    for (const m of samples) {
      const bytes = encodePbftMessage(m);
      const text = execFileSync('protoc', [`--proto_path=${dir}`, '--decode=bizra.v1.PbftMessage', PROTO_PATH], {
        input: bytes,
      });
      const again = execFileSync('protoc', [`--proto_path=${dir}`, '--encode=bizra.v1.PbftMessage', PROTO_PATH], {
        input: text,
      });
      expect(Buffer.from(again).equals(Buffer.from(bytes)), m.type).toBe(true);
    }
  });

  it('refuses non-canonical and malformed bytes, with a reason', () => {
    const prepare = encodePbftMessage(vote<PbftPrepare>('prepare', 1));
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(), /empty PbftMessage/],
      ['trailing unknown field', Uint8Array.from([...prepare, 0x78, 0x01]), /not canonically encoded/],
      ['truncated', prepare.subarray(0, prepare.length - 3), /undecodable/],
      ['explicit zero view', explicitZeroView(), /not canonically encoded/],
      [
        'short digest',
        encodePbftMessage({ ...vote<PbftPrepare>('prepare', 1), digest: new Uint8Array(31) }),
        /digest must be 32 bytes/,
      ],
      [
        'unsorted prepares',
        encodePbftMessage({ ...viewChange, prepared: [{ ...cert, prepares: [...cert.prepares].reverse() }] }),
        /sorted/,
      ],
      ['request timestamp 0', encodePbftMessage({ ...req, timestamp: 0 }), /timestamp must be at least 1/],
    ];
    for (const [what, bytes, reason] of cases) {
      const r = decodePbftMessage(bytes);
      expect(r.ok, what).toBe(false);
      if (!r.ok) expect(r.reason, what).toMatch(reason);
    }
    expect(decodePbftMessage(prepare, 10)).toMatchObject({ ok: false, reason: expect.stringMatching(/at most 10/) });
    expect(decodeSnapshot(snapshot).clients).toHaveLength(1);
    expect(() => decodeSnapshot(Uint8Array.from([...snapshot, 0x08, 0x00]))).toThrow(
      /not canonically encoded|undecodable/,
    );
  });

  it('signs each kind under its own domain tag: a PREPARE signature is not a COMMIT signature', () => {
    const verifier = new PbftVerifier();
    const p = vote<PbftPrepare>('prepare', 1);
    const asCommit: PbftCommit = { ...p, type: 'commit' };
    expect(verifier.verify(p, keys[1]!.publicKey)).toBe(true);
    expect(verifier.verify(asCommit, keys[1]!.publicKey)).toBe(false);
    expect(signedDigest(p)).not.toEqual(signedDigest(asCommit));
    expect(verifier.verify(p, keys[2]!.publicKey)).toBe(false);
    expect(verifier.verify({ ...p, seq: 2 }, keys[1]!.publicKey)).toBe(false);
    // The cache remembers valid signatures only, and still checks the whole triple.
    const before = verifier.verifications;
    expect(verifier.verify(p, keys[1]!.publicKey)).toBe(true);
    expect(verifier.verifications).toBe(before);
    expect(verifier.verify({ ...p }, keys[1]!.publicKey)).toBe(true);
  });

  it('round-trips WAL records and refuses records that are not canonical', () => {
    const records: PbftWalRecord[] = [
      { kind: 'view', view: 3, active: false },
      { kind: 'view', view: 0, active: true },
      { kind: 'signed', message: samples[1] as never },
      { kind: 'signed', message: vote<PbftPrepare>('prepare', 2) },
      { kind: 'signed', message: viewChange },
      { kind: 'prepared', cert },
      { kind: 'executed', cert: samples[10] as never },
      { kind: 'stable', transfer: samples[11] as never },
      { kind: 'new-view', message: newView },
    ];
    for (const r of records) expect(decodeWalRecord(encodeWalRecord(r))).toEqual(r);
    expect(() => decodeWalRecord(new Uint8Array())).toThrow(/empty WAL record/);
    // Written without their batch, they come back with the batch the log holds at that
    // seq and digest, and are refused when it holds none.
    const executed = samples[10] as PbftCommitCertificate;
    const held = (seq: number, digest: Uint8Array, batch: readonly PbftRequest[]) => (s: number, d: Uint8Array) =>
      s === seq && sameBytes(d, digest) ? batch : undefined;
    for (const r of [
      { kind: 'prepared', cert },
      { kind: 'executed', cert: executed },
    ] as PbftWalRecord[]) {
      const at = r.kind === 'prepared' ? cert.prePrepare : executed.commits[0]!;
      const batch = r.kind === 'prepared' ? cert.batch : executed.batch;
      const bytes = encodeWalRecord(r, true);
      expect(decodeWalRecord(bytes, held(at.seq, at.digest, batch))).toEqual(r);
      expect(() => decodeWalRecord(bytes)).toThrow(
        new RegExp(`refers to the batch at sequence ${at.seq} .* but no earlier record holds it`),
      );
      expect(() => decodeWalRecord(bytes, held(at.seq + 1, at.digest, batch))).toThrow(/no earlier record holds it/);
    }
    const status = encodePbftMessage(samples[9]!);
    expect(() => decodeWalRecord(Uint8Array.from([0x12, status.length, ...status]))).toThrow(
      /not a message this replica signs/,
    );
  });
});

/** A PREPARE whose body writes view = 0 explicitly (proto3 omits it in the canonical form). */
function explicitZeroView(): Uint8Array {
  const p = vote<PbftPrepare>('prepare', 1);
  const canonical = encodePbftMessage(p);
  // PbftMessage.prepare (field 3) -> PbftPrepare.body (field 1) -> PbftVoteBody fields.
  const body = [0x08, 0x00, 0x10, 0x01, 0x1a, 0x20, ...p.digest, 0x20, 0x01];
  const inner = [0x0a, body.length, ...body, 0x12, 0x40, ...p.signature];
  const bytes = Uint8Array.from([0x1a, inner.length, ...inner]);
  expect(bytes.length).toBe(canonical.length + 2);
  return bytes;
}
