/**
 * PBFT messages on the wire: every kind round-trips (a REPLY with its proof), protoc
 * re-encodes our bytes to the same bytes (so the canonical form is the standard one),
 * non-canonical or malformed bytes are refused with a reason, and the domain tags keep
 * one kind's signature from passing for another's.
 */
import { describe, expect, it } from 'vitest';
import { protobuf } from '../codec/schema.ts';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import {
  decodePbftMessage,
  decodeSnapshot,
  encodePbftMessage,
  encodeReplyLeaf,
  encodeReplyRootBody,
  encodeSnapshot,
  sameBytes,
} from '../pbft/codec.ts';
import { loadPbftTypes } from '../pbft/schema.ts';
import { batchDigest, signedDigest, signPbft, signReplies, signRequest, viewChangeRef } from '../pbft/sign.ts';
import { MAX_STATUS_BITMAP, MAX_STATUS_MISSING_BATCHES, MAX_STATUS_SLOTS } from '../pbft/structure.ts';
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
  PbftStatusSlot,
  PbftViewChange,
} from '../pbft/types.ts';
import { PbftVerifier } from '../pbft/verifier.ts';
import { decodeWalRecord, encodeWalRecord, type PbftWalRecord } from '../pbft/wal-record.ts';
import { PROTOC_MISSING, protoc, protocAvailable } from './protoc-runner.ts';

const T = loadPbftTypes();
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
    // What a VIEW-CHANGE carries: the certificate without its batch.
    prepared: [{ prePrepare: cert.prePrepare, prepares: cert.prepares }],
    replica: 3,
  },
  keys[3]!,
);
const newView = signPbft<PbftNewView>(
  {
    type: 'new-view',
    view: 1,
    viewChanges: [viewChangeRef(viewChange)],
    prePrepares: [signPbft<PbftPrePrepare>({ type: 'pre-prepare', view: 1, seq: 129, digest, replica: 1 }, keys[1]!)],
    replica: 1,
  },
  keys[1]!,
);
const snapshot = encodeSnapshot({
  appState: new Uint8Array([7, 7]),
  clients: [{ client: client.publicKey, timestamp: 5, result: new Uint8Array([1]) }],
});

const batchReplies = signReplies(
  [1, 2, 3].map((i) => ({ client: client.publicKey, timestamp: i, result: Uint8Array.of(i) })),
  2,
  1,
  keys[1]!,
);

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
  // A REPLY of a batch of three (leaf 1: two siblings), and one signed alone (a tree of one).
  batchReplies[1]!,
  signReplies([{ client: client.publicKey, timestamp: 3, result: new Uint8Array() }], 1, 0, keys[0]!)[0]!,
  signPbft<PbftStatus>(
    {
      type: 'status',
      view: 3,
      active: true,
      lastExecuted: 1000,
      stableCheckpoint: 896,
      missingBatches: [],
      missingViewChanges: [],
      slots: [],
      replica: 2,
    },
    keys[2]!,
  ),
  signPbft<PbftStatus>(
    {
      type: 'status',
      view: 4,
      active: true,
      lastExecuted: 1000,
      stableCheckpoint: 896,
      missingBatches: [1001, 1003],
      missingViewChanges: [0, 3],
      slots: [
        { seq: 1001, prePrepared: true, prepares: Uint8Array.of(0b1010), commits: new Uint8Array() },
        { seq: 1004, prePrepared: false, prepares: Uint8Array.of(0, 1), commits: Uint8Array.of(0x80) },
      ],
      replica: 2,
    },
    keys[2]!,
  ),
  { type: 'commit-certificate', batch, commits: [0, 1, 3].map((r) => vote<PbftCommit>('commit', r)) },
  { type: 'state-transfer', proof: [0, 1, 2].map(checkpoint), snapshot },
];

/** The first sample of a kind. */
const sampleOf = (type: PbftMessage['type']): PbftMessage => samples.find((m) => m.type === type)!;

/** A STATUS listing `missingBatches` as given (the rules are the decoder's to apply). */
const status = (missingBatches: number[]): PbftStatus =>
  signPbft<PbftStatus>(
    {
      type: 'status',
      view: 4,
      active: true,
      lastExecuted: 0,
      stableCheckpoint: 0,
      missingBatches,
      missingViewChanges: [],
      slots: [],
      replica: 2,
    },
    keys[2]!,
  );

const slot = (seq: number): PbftStatusSlot => ({
  seq,
  prePrepared: true,
  prepares: Uint8Array.of(0b110),
  commits: new Uint8Array(),
});
/** The wire bytes of a STATUS describing `slots` as given. */
const statusWithSlots = (slots: PbftStatusSlot[]): Uint8Array => encodePbftMessage({ ...status([]), slots });

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
    ctx.skip(!protocAvailable, PROTOC_MISSING);
    for (const m of samples) {
      const bytes = encodePbftMessage(m);
      const text = protoc(['--decode=bizra.v1.PbftMessage'], bytes);
      if (m === batchReplies[1]) expect(text.toString()).toMatch(/proof \{\n\s+index: 1\n\s+count: 3\n\s+siblings: /);
      const again = protoc(['--encode=bizra.v1.PbftMessage'], text);
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
      ['unsorted missing batches', encodePbftMessage(status([1003, 1001])), /missing batches must be sorted/],
      ['repeated missing batch', encodePbftMessage(status([1001, 1001])), /missing batches must be sorted/],
      ['missing batch 0', encodePbftMessage(status([0, 1])), /missing batch sequence numbers must be at least 1/],
      [
        'too many missing batches',
        encodePbftMessage(status(Array.from({ length: MAX_STATUS_MISSING_BATCHES + 1 }, (_, i) => i + 1))),
        /at most 1024/,
      ],
      ['request timestamp 0', encodePbftMessage({ ...req, timestamp: 0 }), /timestamp must be at least 1/],
      ['unsorted slots', statusWithSlots([slot(5), slot(4)]), /status slots must be sorted/],
      ['repeated slot', statusWithSlots([slot(5), slot(5)]), /status slots must be sorted/],
      ['slot 0', statusWithSlots([slot(0)]), /slot sequence numbers must be at least 1/],
      [
        'prepares bitmap ending in a zero byte',
        statusWithSlots([{ ...slot(1), prepares: Uint8Array.of(1, 0) }]),
        /prepares must not end in a zero byte/,
      ],
      [
        'commits bitmap ending in a zero byte',
        statusWithSlots([{ ...slot(1), commits: Uint8Array.of(0) }]),
        /commits must not end in a zero byte/,
      ],
      [
        'too long a bitmap',
        statusWithSlots([{ ...slot(1), commits: new Uint8Array(MAX_STATUS_BITMAP + 1).fill(1) }]),
        /at most 512/,
      ],
      [
        'too many slots',
        statusWithSlots(Array.from({ length: MAX_STATUS_SLOTS + 1 }, (_, i) => slot(i + 1))),
        /describes 1025 slots; at most 1024/,
      ],
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

  it('refuses malformed and non-canonical REPLY proofs, naming the problem', () => {
    const r = batchReplies[1]!;
    const body = {
      view: r.view,
      timestamp: r.timestamp,
      clientPublicKey: r.client,
      replica: r.replica,
      result: r.result,
    };
    // protobufjs writes every property it is given, zeros included: how a non-canonical peer would.
    const raw = (proof: Record<string, unknown> | undefined): Uint8Array =>
      new Uint8Array(
        T.message.encode({ reply: { body, signature: r.signature, ...(proof ? { proof } : {}) } }).finish(),
      );
    const siblings = [...r.proof.siblings];
    const canonical = raw({ index: 1, count: 3, siblings });
    expect(decodePbftMessage(canonical)).toEqual({ ok: true, message: r });
    const h = new Uint8Array(32);
    const cases: [string, Uint8Array, RegExp][] = [
      ['no proof', raw(undefined), /reply\.proof is missing/],
      ['explicit index 0', explicitZeroIndex(batchReplies[0]!), /not canonically encoded/],
      ['count 0', raw({ index: 0, siblings }), /count must be at least 1/],
      ['index past the count', raw({ index: 3, count: 3, siblings }), /index 3 must be below its count 3/],
      ['short sibling', raw({ index: 1, count: 3, siblings: [h.subarray(1), h] }), /sibling must be 32 bytes/],
      ['missing sibling', raw({ index: 1, count: 3, siblings: [h] }), /1 siblings; leaf 1 of 3 needs 2/],
      ['extra sibling', raw({ index: 2, count: 3, siblings }), /2 siblings; leaf 2 of 3 needs 1/],
      [
        'too many siblings',
        raw({ index: 1, count: 0xffff_ffff, siblings: Array(33).fill(h) }),
        /33 siblings; at most 32/,
      ],
    ];
    for (const [what, bytes, reason] of cases) {
      const d = decodePbftMessage(bytes);
      expect(d.ok, what).toBe(false);
      if (!d.ok) expect(d.reason, what).toMatch(reason);
    }
  });

  it('protoc writes the same bytes for a reply leaf and a reply root body', (ctx) => {
    ctx.skip(!protocAvailable, PROTOC_MISSING);
    const leaf = encodeReplyLeaf({ client: client.publicKey, timestamp: 1767225600000, result: Uint8Array.of(0, 255) });
    const root = encodeReplyRootBody({ view: 2 ** 40, replica: 3, count: 64, root: new Uint8Array(32).fill(0xee) });
    for (const [type, bytes] of [
      ['PbftReplyLeaf', leaf],
      ['PbftReplyRootBody', root],
    ] as const) {
      const text = protoc(['--decode', `bizra.v1.${type}`], bytes);
      expect(text.toString()).toMatch(type === 'PbftReplyLeaf' ? /timestamp: 1767225600000/ : /count: 64/);
      expect(Buffer.from(protoc(['--encode', `bizra.v1.${type}`], text)).equals(Buffer.from(bytes)), type).toBe(true);
    }
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
    expect(verifier.remembers).toBe(true);
    // Without a cache every check runs Ed25519, and nothing is remembered to check ahead into.
    const uncached = new PbftVerifier({ validCacheSize: 0 });
    expect(uncached.remembers).toBe(false);
    expect(uncached.verify(p, keys[1]!.publicKey)).toBe(true);
    expect(uncached.verify(p, keys[1]!.publicKey)).toBe(true);
    expect(uncached.verify(p, keys[2]!.publicKey)).toBe(false);
    expect(uncached.verifications).toBe(3);
  });

  it('finds a cached signature by 30 of its bits but answers from the cache only for the very same bytes', () => {
    const verifier = new PbftVerifier();
    const p = vote<PbftPrepare>('prepare', 1);
    expect(verifier.verify(p, keys[1]!.publicKey)).toBe(true);
    const checks = verifier.verifications;
    // Same first four bytes (the cache slot), other bytes after: not a hit, and not valid.
    for (const at of [4, 31, 32, 63]) {
      const signature = Uint8Array.from(p.signature);
      signature[at]! ^= 1;
      expect(verifier.verify({ ...p, signature }, keys[1]!.publicKey), `byte ${at}`).toBe(false);
    }
    expect(verifier.verifications).toBe(checks + 4);
    // Another vote's signature given the cached one's slot: checked in full and refused,
    // and the cached entry stays (the next check of the first vote is a hit).
    const q = vote<PbftPrepare>('prepare', 2);
    const sharing = { ...q, signature: Uint8Array.from(q.signature) };
    sharing.signature.set(p.signature.subarray(0, 4), 0);
    expect(verifier.verify(sharing, keys[2]!.publicKey)).toBe(false);
    expect(verifier.verify(p, keys[1]!.publicKey)).toBe(true);
    expect(verifier.verifications).toBe(checks + 5);
  });

  it("writes a NEW-VIEW's WAL record with exactly protobufjs's bytes, VIEW-CHANGEs read from frames or made here", () => {
    const T = loadPbftTypes();
    const read = decodePbftMessage(encodePbftMessage(viewChange));
    expect(read.ok).toBe(true);
    const fromFrame = (read as { message: PbftViewChange }).message;
    for (const viewChanges of [[viewChange], [fromFrame, viewChange], []]) {
      const r: PbftWalRecord = { kind: 'new-view', message: newView, viewChanges };
      const bytes = encodeWalRecord(r);
      expect(Buffer.from(T.walRecord.encode(T.walRecord.decode(bytes)).finish()).equals(Buffer.from(bytes))).toBe(true);
      expect(decodeWalRecord(bytes)).toEqual({ ...r, viewChanges: viewChanges.map(() => viewChange) });
    }
  });

  it('round-trips WAL records and refuses records that are not canonical', () => {
    const records: PbftWalRecord[] = [
      { kind: 'view', view: 3, active: false },
      { kind: 'view', view: 0, active: true },
      { kind: 'signed', message: samples[1] as never },
      { kind: 'signed', message: vote<PbftPrepare>('prepare', 2) },
      { kind: 'signed', message: viewChange },
      { kind: 'prepared', cert },
      { kind: 'executed', cert: sampleOf('commit-certificate') as never },
      { kind: 'stable', transfer: sampleOf('state-transfer') as never },
      { kind: 'new-view', message: newView, viewChanges: [viewChange] },
      { kind: 'new-view', message: newView, viewChanges: [] },
    ];
    for (const r of records) expect(decodeWalRecord(encodeWalRecord(r))).toEqual(r);
    expect(() => decodeWalRecord(new Uint8Array())).toThrow(/empty WAL record/);
    // Written without their batch, they come back with the batch the log holds at that
    // seq and digest, and are refused when it holds none.
    const executed = sampleOf('commit-certificate') as PbftCommitCertificate;
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
    const status = encodePbftMessage(sampleOf('status'));
    expect(() => decodeWalRecord(Uint8Array.from([0x12, status.length, ...status]))).toThrow(
      /not a message this replica signs/,
    );
  });
});

/** A REPLY whose proof writes index = 0 explicitly (proto3 omits it in the canonical form). */
function explicitZeroIndex(r: PbftReply): Uint8Array {
  const { Writer } = protobuf;
  const body = T.message.root.lookupType('bizra.v1.PbftReplyBody').encode({
    view: r.view,
    timestamp: r.timestamp,
    clientPublicKey: r.client,
    replica: r.replica,
    result: r.result,
  });
  const proof = Writer.create().uint32(0x08).uint32(0).uint32(0x10).uint32(r.proof.count);
  for (const s of r.proof.siblings) proof.uint32(0x1a).bytes(s);
  const reply = Writer.create().uint32(0x0a).bytes(body.finish()).uint32(0x12).bytes(r.signature);
  reply.uint32(0x1a).bytes(proof.finish());
  const bytes = new Uint8Array(Writer.create().uint32(0x42).bytes(reply.finish()).finish());
  expect(r.proof.index).toBe(0);
  expect(bytes.length).toBe(encodePbftMessage(r).length + 2);
  return bytes;
}

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
