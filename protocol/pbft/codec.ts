/**
 * Canonical bytes of the PBFT messages, and their strict decoding.
 *
 * Encoding builds the object handed to protobufjs from typed fields and leaves proto3
 * defaults out, so protobufjs writes the one canonical form (fields in number order,
 * defaults omitted; protoc writes the same bytes, see protocol/test/pbft-codec.test.ts).
 * Decoding is decode, check, re-encode and compare (as for heartbeats): bytes that are
 * not exactly what the encoder writes for the decoded fields are refused, so a signature
 * covers one byte form only and nested signed parts re-encode to the bytes their signers
 * signed.
 */
import type { protobuf } from '../codec/schema.ts';
import {
  batchBytes,
  commitCertificateBytes,
  frameBytes,
  proposalBytes,
  replyLeafBytes,
  requestBodyBytes,
  requestBytes,
  voteBodyBytes,
  voteBytes,
  wrapAsField,
} from './normal-case-bytes.ts';
import { readNormalCaseFrame } from './normal-case-reader.ts';
import { loadPbftTypes } from './schema.ts';
import { pbftStructureProblem } from './structure.ts';
import type {
  PbftCheckpoint,
  PbftClientRecord,
  PbftCommit,
  PbftCommitCertificate,
  PbftMessage,
  PbftNewView,
  PbftPrePrepare,
  PbftPrepare,
  PbftPreparedCertificate,
  PbftPreparedProof,
  PbftReply,
  PbftReplyLeaf,
  PbftReplyProof,
  PbftReplyRoot,
  PbftRequest,
  PbftStateSnapshot,
  PbftStateTransfer,
  PbftStatus,
  PbftViewChange,
  PbftViewChangeRef,
  PbftVoteFields,
} from './types.ts';
import { readViewChangeFrame } from './view-change-reader.ts';

const T = loadPbftTypes();

/** Refusal of wire bytes; the message says what is wrong. */
export class PbftWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PbftWireError';
  }
}

/** Largest frame decoded by default: a state transfer carries the application's snapshot. */
export const DEFAULT_MAX_PBFT_MESSAGE_BYTES = 64 * 1024 * 1024;

export type Obj = Record<string, unknown>;

/** A protobufjs input object without proto3 defaults (0, false, empty bytes). */
export function fields(entries: Record<string, unknown>): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(entries)) {
    if (v === undefined || v === 0 || v === false) continue;
    if (v instanceof Uint8Array && v.length === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

export function finish(w: protobuf.Writer): Uint8Array {
  // A copy: protobufjs's writer may hand out a view into a shared slab.
  return new Uint8Array(w.finish());
}

// ---- to protobufjs objects -------------------------------------------------------

const requestBodyObj = (r: PbftRequest): Obj =>
  fields({ clientPublicKey: r.client, timestamp: r.timestamp, operation: r.operation });
const requestObj = (r: PbftRequest): Obj => ({ body: requestBodyObj(r), signature: r.signature });
const batchObj = (batch: readonly PbftRequest[]): Obj => fields({ requests: batch.map(requestObj) });
const voteBodyObj = (v: PbftVoteFields): Obj =>
  fields({ view: v.view, sequence: v.seq, batchDigest: v.digest, replica: v.replica });
const voteObj = (v: PbftVoteFields): Obj => ({ body: voteBodyObj(v), signature: v.signature });
const checkpointBodyObj = (c: PbftCheckpoint): Obj =>
  fields({ sequence: c.seq, stateDigest: c.stateDigest, replica: c.replica });
const checkpointObj = (c: PbftCheckpoint): Obj => ({ body: checkpointBodyObj(c), signature: c.signature });
export const certObj = (c: PbftPreparedCertificate): Obj => ({
  prePrepare: voteObj(c.prePrepare),
  batch: batchObj(c.batch),
  ...fields({ prepares: c.prepares.map(voteObj) }),
});
export const preparedProofObj = (c: PbftPreparedProof): Obj => ({
  prePrepare: voteObj(c.prePrepare),
  ...fields({ prepares: c.prepares.map(voteObj) }),
});
const viewChangeBodyObj = (v: PbftViewChange): Obj =>
  fields({
    newView: v.newView,
    checkpointSequence: v.checkpointSeq,
    checkpointProof: v.checkpointProof.map(checkpointObj),
    prepared: v.prepared.map(preparedProofObj),
    replica: v.replica,
  });
export const viewChangeObj = (v: PbftViewChange): Obj => ({ body: viewChangeBodyObj(v), signature: v.signature });
const viewChangeRefObj = (r: PbftViewChangeRef): Obj => fields({ replica: r.replica, digest: r.digest });
const newViewBodyObj = (n: PbftNewView): Obj =>
  fields({
    view: n.view,
    viewChanges: n.viewChanges.map(viewChangeRefObj),
    prePrepares: n.prePrepares.map(voteObj),
    replica: n.replica,
  });
export const newViewObj = (n: PbftNewView): Obj => ({ body: newViewBodyObj(n), signature: n.signature });
const replyBodyObj = (r: PbftReply): Obj =>
  fields({
    view: r.view,
    timestamp: r.timestamp,
    clientPublicKey: r.client,
    replica: r.replica,
    result: r.result,
  });
// Always written (count >= 1 in a valid proof, so never the empty message).
const replyProofObj = (p: PbftReplyProof): Obj =>
  fields({ index: p.index, count: p.count, siblings: p.siblings as Uint8Array[] });
const replyLeafObj = (l: PbftReplyLeaf): Obj =>
  fields({ clientPublicKey: l.client, timestamp: l.timestamp, result: l.result });
const replyRootBodyObj = (r: PbftReplyRoot): Obj =>
  fields({ view: r.view, replica: r.replica, count: r.count, root: r.root });
const statusBodyObj = (s: PbftStatus): Obj =>
  fields({
    view: s.view,
    viewActive: s.active,
    lastExecuted: s.lastExecuted,
    stableCheckpoint: s.stableCheckpoint,
    replica: s.replica,
    missingBatches: s.missingBatches as number[],
    missingViewChanges: s.missingViewChanges as number[],
    slots: s.slots.map((x) =>
      fields({ seq: x.seq, prePrepared: x.prePrepared, prepares: x.prepares, commits: x.commits }),
    ),
  });
export const commitCertObj = (c: PbftCommitCertificate): Obj => ({
  batch: batchObj(c.batch),
  ...fields({ commits: c.commits.map(voteObj) }),
});
export const stateTransferObj = (s: PbftStateTransfer): Obj =>
  fields({ checkpointProof: s.proof.map(checkpointObj), snapshot: s.snapshot });

/** The PbftMessage oneof member of `m`, as a protobufjs object. */
export function pbftMessageObject(m: PbftMessage): Obj {
  switch (m.type) {
    case 'request':
      return { request: requestObj(m) };
    case 'proposal':
      return { proposal: { prePrepare: voteObj(m.prePrepare), batch: batchObj(m.batch) } };
    case 'prepare':
      return { prepare: voteObj(m) };
    case 'commit':
      return { commit: voteObj(m) };
    case 'checkpoint':
      return { checkpoint: checkpointObj(m) };
    case 'view-change':
      return { viewChange: viewChangeObj(m) };
    case 'new-view':
      return { newView: newViewObj(m) };
    case 'reply':
      return { reply: { body: replyBodyObj(m), signature: m.signature, proof: replyProofObj(m.proof) } };
    case 'status':
      return { status: { body: statusBodyObj(m), signature: m.signature } };
    case 'commit-certificate':
      return { commitCertificate: commitCertObj(m) };
    case 'state-transfer':
      return { stateTransfer: stateTransferObj(m) };
  }
}

// ---- signed bodies -----------------------------------------------------------------

export const encodeRequestBody = (r: PbftRequest): Uint8Array =>
  requestBodyBytes(r) ?? finish(T.requestBody.encode(requestBodyObj(r)));
export const encodeVoteBody = (v: PbftVoteFields): Uint8Array =>
  voteBodyBytes(v) ?? finish(T.voteBody.encode(voteBodyObj(v)));
export const encodeCheckpointBody = (c: PbftCheckpoint): Uint8Array =>
  finish(T.checkpointBody.encode(checkpointBodyObj(c)));
export const encodeViewChangeBody = (v: PbftViewChange): Uint8Array =>
  finish(T.viewChangeBody.encode(viewChangeBodyObj(v)));
export const encodeNewViewBody = (n: PbftNewView): Uint8Array => finish(T.newViewBody.encode(newViewBodyObj(n)));
/** Canonical PbftReplyLeaf bytes: what a leaf of a reply tree covers. */
export const encodeReplyLeaf = (l: PbftReplyLeaf): Uint8Array =>
  replyLeafBytes(l) ?? finish(T.replyLeaf.encode(replyLeafObj(l)));
/** Canonical PbftReplyRootBody bytes: what a replica signs for a batch's replies. */
export const encodeReplyRootBody = (r: PbftReplyRoot): Uint8Array =>
  finish(T.replyRootBody.encode(replyRootBodyObj(r)));
export const encodeStatusBody = (s: PbftStatus): Uint8Array => finish(T.statusBody.encode(statusBodyObj(s)));
/** Canonical PbftBatch bytes: what the batch digest covers. */
export const encodeBatch = (batch: readonly PbftRequest[]): Uint8Array =>
  batchBytes(batch) ?? finish(T.batch.encode(batchObj(batch)));

/** Canonical PbftStateSnapshot bytes: what a checkpoint's state digest covers. */
export function encodeSnapshot(s: PbftStateSnapshot): Uint8Array {
  return finish(
    T.snapshot.encode(
      fields({
        appState: s.appState,
        clients: s.clients.map((c) => fields({ clientPublicKey: c.client, timestamp: c.timestamp, result: c.result })),
      }),
    ),
  );
}

/** The normal-case members of PbftMessage, assembled from parts encoded once (normal-case-bytes.ts); null for the rest. */
function assembledFrame(m: PbftMessage): Uint8Array | null {
  let inner: Uint8Array | null;
  let field: number;
  switch (m.type) {
    case 'request':
      [field, inner] = [1, requestBytes(m)];
      break;
    case 'proposal':
      [field, inner] = [2, proposalBytes(m.prePrepare, m.batch)];
      break;
    case 'prepare':
      [field, inner] = [3, voteBytes(m)];
      break;
    case 'commit':
      [field, inner] = [4, voteBytes(m)];
      break;
    case 'commit-certificate':
      [field, inner] = [10, commitCertificateBytes(m)];
      break;
    default:
      return null;
  }
  return inner === null ? null : wrapAsField(field, inner);
}

const freshFrame = (m: PbftMessage): Uint8Array => assembledFrame(m) ?? finish(T.message.encode(pbftMessageObject(m)));

/**
 * Wire bytes of one frame, made once per message object: a proposal is sent to every
 * peer and written to the WAL as the same bytes.
 */
export function encodePbftMessage(m: PbftMessage): Uint8Array {
  return frameBytes(m, freshFrame);
}

// ---- decoding -------------------------------------------------------------------------

const MAX_UINT53 = Number.MAX_SAFE_INTEGER;

export function int(o: Obj, name: string, what: string): number {
  const v = Number(o[name] ?? 0);
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_UINT53)
    throw new PbftWireError(`${what}.${name} is not 0 to 2^53-1`);
  return v;
}

/** A plain Uint8Array view of decoded bytes (protobufjs hands out Buffers). */
const asBytes = (v: unknown): Uint8Array =>
  v instanceof Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.length) : new Uint8Array(0);

const bytesField = (o: Obj, name: string): Uint8Array => asBytes(o[name]);

export function sub(o: Obj, name: string, what: string): Obj {
  const v = o[name];
  if (v === null || v === undefined || typeof v !== 'object') throw new PbftWireError(`${what}.${name} is missing`);
  return v as Obj;
}

export function list(o: Obj, name: string): Obj[] {
  const v = o[name];
  return Array.isArray(v) ? (v as Obj[]) : [];
}

/** A repeated uint64 field, each 0 to 2^53-1. */
function ints(o: Obj, name: string, what: string): number[] {
  const v = o[name];
  if (!Array.isArray(v)) return [];
  return v.map((x: unknown, i) => int({ x }, 'x', `${what}.${name}[${i}]`));
}

function requestFrom(o: Obj): PbftRequest {
  const b = sub(o, 'body', 'request');
  return {
    type: 'request',
    client: bytesField(b, 'clientPublicKey'),
    timestamp: int(b, 'timestamp', 'request'),
    operation: bytesField(b, 'operation'),
    signature: bytesField(o, 'signature'),
  };
}

function voteFrom<K extends 'pre-prepare' | 'prepare' | 'commit'>(
  o: Obj,
  type: K,
): PbftVoteFields & { readonly type: K } {
  const b = sub(o, 'body', type);
  return {
    type,
    view: int(b, 'view', type),
    seq: int(b, 'sequence', type),
    digest: bytesField(b, 'batchDigest'),
    replica: int(b, 'replica', type),
    signature: bytesField(o, 'signature'),
  };
}

const batchFrom = (o: Obj): PbftRequest[] => list(o, 'requests').map(requestFrom);

function checkpointFrom(o: Obj): PbftCheckpoint {
  const b = sub(o, 'body', 'checkpoint');
  return {
    type: 'checkpoint',
    seq: int(b, 'sequence', 'checkpoint'),
    stateDigest: bytesField(b, 'stateDigest'),
    replica: int(b, 'replica', 'checkpoint'),
    signature: bytesField(o, 'signature'),
  };
}

export function preparedProofFrom(o: Obj): PbftPreparedProof {
  return {
    prePrepare: voteFrom(sub(o, 'prePrepare', 'certificate'), 'pre-prepare') as PbftPrePrepare,
    prepares: list(o, 'prepares').map((p) => voteFrom(p, 'prepare') as PbftPrepare),
  };
}

export function certFrom(o: Obj): PbftPreparedCertificate {
  return { ...preparedProofFrom(o), batch: batchFrom(sub(o, 'batch', 'certificate')) };
}

export function viewChangeFrom(o: Obj): PbftViewChange {
  const b = sub(o, 'body', 'view-change');
  return {
    type: 'view-change',
    newView: int(b, 'newView', 'view-change'),
    checkpointSeq: int(b, 'checkpointSequence', 'view-change'),
    checkpointProof: list(b, 'checkpointProof').map(checkpointFrom),
    prepared: list(b, 'prepared').map(preparedProofFrom),
    replica: int(b, 'replica', 'view-change'),
    signature: bytesField(o, 'signature'),
  };
}

export function newViewFrom(o: Obj): PbftNewView {
  const b = sub(o, 'body', 'new-view');
  return {
    type: 'new-view',
    view: int(b, 'view', 'new-view'),
    viewChanges: list(b, 'viewChanges').map(
      (r): PbftViewChangeRef => ({ replica: int(r, 'replica', 'view-change ref'), digest: bytesField(r, 'digest') }),
    ),
    prePrepares: list(b, 'prePrepares').map((p) => voteFrom(p, 'pre-prepare') as PbftPrePrepare),
    replica: int(b, 'replica', 'new-view'),
    signature: bytesField(o, 'signature'),
  };
}

export function stateTransferFrom(o: Obj): PbftStateTransfer {
  return {
    type: 'state-transfer',
    proof: list(o, 'checkpointProof').map(checkpointFrom),
    snapshot: bytesField(o, 'snapshot'),
  };
}

function replyFrom(r: Obj): PbftReply {
  const b = sub(r, 'body', 'reply');
  const p = sub(r, 'proof', 'reply');
  return {
    type: 'reply',
    view: int(b, 'view', 'reply'),
    timestamp: int(b, 'timestamp', 'reply'),
    client: bytesField(b, 'clientPublicKey'),
    replica: int(b, 'replica', 'reply'),
    result: bytesField(b, 'result'),
    proof: {
      index: int(p, 'index', 'reply.proof'),
      count: int(p, 'count', 'reply.proof'),
      siblings: list(p, 'siblings').map(asBytes),
    },
    signature: bytesField(r, 'signature'),
  };
}

/** The typed message of a decoded PbftMessage object. */
export function pbftMessageFromObject(o: Obj): PbftMessage {
  if (o['request']) return requestFrom(o['request'] as Obj);
  if (o['proposal']) {
    const p = o['proposal'] as Obj;
    return {
      type: 'proposal',
      prePrepare: voteFrom(sub(p, 'prePrepare', 'proposal'), 'pre-prepare') as PbftPrePrepare,
      batch: batchFrom(sub(p, 'batch', 'proposal')),
    };
  }
  if (o['prepare']) return voteFrom(o['prepare'] as Obj, 'prepare') as PbftPrepare;
  if (o['commit']) return voteFrom(o['commit'] as Obj, 'commit') as PbftCommit;
  if (o['checkpoint']) return checkpointFrom(o['checkpoint'] as Obj);
  if (o['viewChange']) return viewChangeFrom(o['viewChange'] as Obj);
  if (o['newView']) return newViewFrom(o['newView'] as Obj);
  if (o['reply']) return replyFrom(o['reply'] as Obj);
  if (o['status']) {
    const s = o['status'] as Obj;
    const b = sub(s, 'body', 'status');
    return {
      type: 'status',
      view: int(b, 'view', 'status'),
      active: b['viewActive'] === true,
      lastExecuted: int(b, 'lastExecuted', 'status'),
      stableCheckpoint: int(b, 'stableCheckpoint', 'status'),
      missingBatches: ints(b, 'missingBatches', 'status'),
      missingViewChanges: ints(b, 'missingViewChanges', 'status'),
      slots: list(b, 'slots').map((x, i) => ({
        seq: int(x, 'seq', `status.slots[${i}]`),
        prePrepared: x['prePrepared'] === true,
        prepares: bytesField(x, 'prepares'),
        commits: bytesField(x, 'commits'),
      })),
      replica: int(b, 'replica', 'status'),
      signature: bytesField(s, 'signature'),
    };
  }
  if (o['commitCertificate']) {
    const c = o['commitCertificate'] as Obj;
    return {
      type: 'commit-certificate',
      batch: batchFrom(sub(c, 'batch', 'commit-certificate')),
      commits: list(c, 'commits').map((v) => voteFrom(v, 'commit') as PbftCommit),
    };
  }
  if (o['stateTransfer']) return stateTransferFrom(o['stateTransfer'] as Obj);
  throw new PbftWireError('empty PbftMessage (no member of the oneof is set)');
}

export const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, defaults: false, arrays: true };

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export type PbftDecodeResult = { ok: true; message: PbftMessage } | { ok: false; reason: string };

/**
 * Decodes one frame, checks the structural rules (lengths, sorted parts, ranges) and
 * that the bytes are canonical. Never throws. Signatures are not checked here: that
 * needs the validator set (the replica does it).
 */
export function decodePbftMessage(bytes: Uint8Array, maxBytes = DEFAULT_MAX_PBFT_MESSAGE_BYTES): PbftDecodeResult {
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'PBFT message must be bytes' };
  if (bytes.length > maxBytes)
    return { ok: false, reason: `PBFT message is ${bytes.length} bytes; at most ${maxBytes}` };
  try {
    // Proposals, votes, VIEW-CHANGEs and NEW-VIEWs are read in one pass
    // (normal-case-reader.ts, view-change-reader.ts), which reads only the canonical form;
    // anything it is unsure of, and every other kind, goes through protobufjs and is
    // re-encoded to prove it canonical.
    const read = readNormalCaseFrame(bytes) ?? readViewChangeFrame(bytes);
    const message = read ?? pbftMessageFromObject(T.message.toObject(T.message.decode(bytes), TO_OBJECT) as Obj);
    const problem = pbftStructureProblem(message);
    if (problem !== null) return { ok: false, reason: problem };
    // Not encodePbftMessage: that would keep a second copy of the frame for the object.
    if (read === null && !sameBytes(freshFrame(message), bytes)) {
      return { ok: false, reason: 'PBFT message is not canonically encoded' };
    }
    return { ok: true, message };
  } catch (err) {
    if (err instanceof PbftWireError) return { ok: false, reason: err.message };
    return { ok: false, reason: `undecodable PBFT message: ${(err as Error)?.message}` };
  }
}

/** Reads canonical PbftStateSnapshot bytes; throws PbftWireError. */
export function decodeSnapshot(bytes: Uint8Array): PbftStateSnapshot {
  let o: Obj;
  try {
    o = T.snapshot.toObject(T.snapshot.decode(bytes), TO_OBJECT) as Obj;
  } catch (err) {
    throw new PbftWireError(`undecodable state snapshot: ${(err as Error)?.message}`);
  }
  const clients: PbftClientRecord[] = list(o, 'clients').map((c) => ({
    client: bytesField(c, 'clientPublicKey'),
    timestamp: int(c, 'timestamp', 'client'),
    result: bytesField(c, 'result'),
  }));
  const snapshot: PbftStateSnapshot = { appState: bytesField(o, 'appState'), clients };
  for (let i = 0; i < clients.length; i++) {
    const c = clients[i]!;
    if (c.client.length !== 32) throw new PbftWireError('state snapshot: client key must be 32 bytes');
    if (i > 0 && Buffer.compare(clients[i - 1]!.client, c.client) >= 0) {
      throw new PbftWireError('state snapshot: clients are not sorted by key without duplicates');
    }
  }
  if (!sameBytes(encodeSnapshot(snapshot), bytes)) throw new PbftWireError('state snapshot is not canonically encoded');
  return snapshot;
}
