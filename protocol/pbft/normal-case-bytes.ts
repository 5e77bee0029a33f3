/**
 * Canonical bytes of the normal-case messages (REQUEST, batch, PRE-PREPARE / PREPARE /
 * COMMIT, proposal, prepared and commit certificates), assembled by hand from parts that
 * are encoded once per object and remembered.
 *
 * Why: at saturation one batch object is encoded for its digest, for the wire and for
 * its WAL record (the proposal, or a backup's prepared certificate), and each request's
 * body once more for its signature digest. Messages are read-only (see
 * types.ts), so the bytes of an object never change: they are kept while the
 * object lives, and everything that embeds a batch copies its bytes instead of encoding
 * its requests again. The bytes are kept on the object itself (object-slot.ts), not in
 * WeakMaps, whose upkeep showed in the collector's profile.
 *
 * The bytes are exactly what protobufjs writes for the objects codec.ts builds (and what
 * protoc writes; protocol/test/pbft-codec.test.ts compares all three): fields in number
 * order, integer fields left out when 0, bytes fields when empty, repeated fields when
 * empty, embedded messages always written. An object with a number outside 0..2^53-1
 * (no valid message has one) is not assembled here: the caller falls back to protobufjs.
 */

import { ObjectSlot } from './object-slot.ts';
import type {
  PbftCheckpoint,
  PbftCommitCertificate,
  PbftNewView,
  PbftPreparedCertificate,
  PbftRequest,
  PbftViewChange,
  PbftVoteFields,
} from './types.ts';

const bodies = new ObjectSlot<object, Uint8Array>('bizra.pbft.bodyBytes');
const wholes = new ObjectSlot<object, Uint8Array>('bizra.pbft.wholeBytes');
const batches = new ObjectSlot<readonly PbftRequest[], Uint8Array>('bizra.pbft.batchBytes');
const frames = new ObjectSlot<object, Uint8Array>('bizra.pbft.frame');

const isUint53 = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

/**
 * Remembers the bytes a vote was read from (normal-case-reader.ts, which reads only the
 * canonical form) as its own: they are what assembling it would give, so its digest and
 * any record embedding it use views into the frame instead of new copies.
 */
export function rememberReadBytes(o: PbftVoteFields, body: Uint8Array, whole: Uint8Array): void {
  bodies.set(o, body);
  wholes.set(o, whole);
}

/**
 * As rememberReadBytes, for a request read from a proposal: only its body (which its
 * signature digest covers). Its whole bytes are part of its batch's, which are
 * remembered (rememberReadBatch); a view of them per request, kept while the log holds
 * the batch, is rarely read (a new primary re-proposing it), and that assembles them.
 */
export function rememberReadRequestBody(r: PbftRequest, body: Uint8Array): void {
  bodies.set(r, body);
}

/** Signed bodies (of CHECKPOINTs, VIEW-CHANGEs, NEW-VIEWs) as read from canonical frames (view-change-reader.ts). */
const readBodies = new ObjectSlot<object, Uint8Array>('bizra.pbft.readBody');

/** Remembers the signed body bytes `m` was read from: what encoding its body would give. */
export function rememberReadBody(m: PbftCheckpoint | PbftViewChange | PbftNewView, body: Uint8Array): void {
  readBodies.set(m, body);
}

/** The signed body bytes `m` was read from, if it was read from a frame. */
export function readBodyOf(m: object): Uint8Array | undefined {
  return readBodies.get(m);
}

/** As rememberReadBytes, for a batch read from a canonical proposal. */
export function rememberReadBatch(batch: readonly PbftRequest[], bytes: Uint8Array): void {
  batches.set(batch, bytes);
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * One field of a message being assembled, in field order: a varint (left out when 0),
 * bytes (left out when empty) or an embedded message (always written).
 */
type Field =
  | readonly [tag: number, kind: 'varint', value: number]
  | readonly [tag: number, kind: 'bytes' | 'message', value: Uint8Array];

function fieldLength(f: Field): number {
  if (f[1] === 'varint') return f[2] === 0 ? 0 : 1 + varintLength(f[2]);
  if (f[1] === 'bytes' && f[2].length === 0) return 0;
  return 1 + varintLength(f[2].length) + f[2].length;
}

const message = (tag: number, bytes: Uint8Array): Field => [tag, 'message', bytes];

function writeVarint(out: Uint8Array, at: number, v: number): number {
  while (v >= 128) {
    out[at++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}

/**
 * `length` bytes to be overwritten in full, as a plain Uint8Array view. Taken from Node's
 * shared Buffer pool (8 KiB slabs, for anything under 4 KiB): a request's body and whole
 * bytes and a reply leaf are 100-300 bytes, and `new Uint8Array` of more than 64 bytes
 * mallocs a backing store and registers an ArrayBuffer with the GC for each one (the
 * primary of a saturated validator spent about 6 % of its thread in malloc and free).
 */
function uninitialised(length: number): Uint8Array {
  const b = Buffer.allocUnsafe(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}

function assemble(fields: readonly Field[]): Uint8Array {
  let length = 0;
  for (const f of fields) length += fieldLength(f);
  // Every byte is written below (the lengths are exact).
  const out = uninitialised(length);
  let at = 0;
  for (const f of fields) {
    if (f[1] === 'varint') {
      if (f[2] === 0) continue;
      out[at++] = f[0];
      at = writeVarint(out, at, f[2]);
    } else {
      if (f[1] === 'bytes' && f[2].length === 0) continue;
      out[at++] = f[0];
      at = writeVarint(out, at, f[2].length);
      out.set(f[2], at);
      at += f[2].length;
    }
  }
  return out;
}

/** Field `n` with wire type 2 (length-delimited), as a one-byte tag (n < 16). */
const LD = (n: number): number => (n << 3) | 2;
/** Field `n` with wire type 0 (varint). */
const VI = (n: number): number => n << 3;

function remembered<K extends object>(cache: ObjectSlot<K, Uint8Array>, key: K, make: () => Uint8Array): Uint8Array {
  let b = cache.get(key);
  if (b === undefined) {
    b = make();
    cache.set(key, b);
  }
  return b;
}

/** Canonical PbftRequestBody bytes (what the client signed), or null (fall back). */
export function requestBodyBytes(r: PbftRequest): Uint8Array | null {
  if (!isUint53(r.timestamp)) return null;
  return remembered(bodies, r, () =>
    assemble([
      [LD(1), 'bytes', r.client],
      [VI(2), 'varint', r.timestamp],
      [LD(3), 'bytes', r.operation],
    ]),
  );
}

/**
 * Canonical PbftReplyLeaf bytes (client, timestamp, result: the same shape as a request
 * body), or null. Not remembered: a leaf is hashed once, when its batch's replies are signed.
 */
export function replyLeafBytes(l: { client: Uint8Array; timestamp: number; result: Uint8Array }): Uint8Array | null {
  if (!isUint53(l.timestamp)) return null;
  return assemble([
    [LD(1), 'bytes', l.client],
    [VI(2), 'varint', l.timestamp],
    [LD(3), 'bytes', l.result],
  ]);
}

/** Canonical PbftRequest bytes (body and signature), or null. */
export function requestBytes(r: PbftRequest): Uint8Array | null {
  const body = requestBodyBytes(r);
  if (body === null) return null;
  return remembered(wholes, r, () => assemble([message(LD(1), body), [LD(2), 'bytes', r.signature]]));
}

/**
 * Canonical PbftBatch bytes (what the batch digest covers), or null. Each request is
 * written straight into the batch from its body and signature: a request the primary
 * proposes has no bytes of its own (it came from a client as an object), and making and
 * keeping a copy of each, only to copy it again here, cost the primary an allocation per
 * request that the log then held until the next stable checkpoint.
 */
export function batchBytes(batch: readonly PbftRequest[]): Uint8Array | null {
  const cached = batches.get(batch);
  if (cached !== undefined) return cached;
  const bodiesOf: Uint8Array[] = [];
  let length = 0;
  for (const r of batch) {
    const body = requestBodyBytes(r);
    if (body === null) return null;
    bodiesOf.push(body);
    const whole = requestWholeLength(body.length, r.signature.length);
    length += 1 + varintLength(whole) + whole;
  }
  // Every byte is written below (the lengths are exact).
  const out = uninitialised(length);
  let at = 0;
  for (let i = 0; i < batch.length; i++) {
    const body = bodiesOf[i]!;
    const signature = batch[i]!.signature;
    out[at++] = LD(1);
    at = writeVarint(out, at, requestWholeLength(body.length, signature.length));
    // PbftRequest: body = 1 (an embedded message, always written), signature = 2 (bytes,
    // left out when empty).
    out[at++] = LD(1);
    at = writeVarint(out, at, body.length);
    out.set(body, at);
    at += body.length;
    if (signature.length > 0) {
      out[at++] = LD(2);
      at = writeVarint(out, at, signature.length);
      out.set(signature, at);
      at += signature.length;
    }
  }
  batches.set(batch, out);
  return out;
}

/** The length of a PbftRequest's bytes with a body of `body` bytes and a signature of `signature` bytes. */
function requestWholeLength(body: number, signature: number): number {
  return 1 + varintLength(body) + body + (signature === 0 ? 0 : 1 + varintLength(signature) + signature);
}

/** Canonical PbftVoteBody bytes (what a PRE-PREPARE, PREPARE or COMMIT signs), or null. */
export function voteBodyBytes(v: PbftVoteFields): Uint8Array | null {
  if (!isUint53(v.view) || !isUint53(v.seq) || !isUint53(v.replica) || v.replica > 0xffffffff) return null;
  return remembered(bodies, v, () =>
    assemble([
      [VI(1), 'varint', v.view],
      [VI(2), 'varint', v.seq],
      [LD(3), 'bytes', v.digest],
      [VI(4), 'varint', v.replica],
    ]),
  );
}

/** Canonical PbftPrePrepare / PbftPrepare / PbftCommit bytes, or null. */
export function voteBytes(v: PbftVoteFields): Uint8Array | null {
  const body = voteBodyBytes(v);
  if (body === null) return null;
  return remembered(wholes, v, () => assemble([message(LD(1), body), [LD(2), 'bytes', v.signature]]));
}

/** Canonical PbftProposal bytes, or null. */
export function proposalBytes(prePrepare: PbftVoteFields, batch: readonly PbftRequest[]): Uint8Array | null {
  const pp = voteBytes(prePrepare);
  const b = batchBytes(batch);
  if (pp === null || b === null) return null;
  return assemble([message(LD(1), pp), message(LD(2), b)]);
}

/**
 * Canonical PbftPreparedCertificate bytes, or null; without the batch field (a
 * PbftPreparedProof) when `withBatch` is false.
 */
export function preparedCertificateBytes(c: PbftPreparedCertificate, withBatch = true): Uint8Array | null {
  const pp = voteBytes(c.prePrepare);
  const b = withBatch ? batchBytes(c.batch) : null;
  if (pp === null || (withBatch && b === null)) return null;
  const fields: Field[] = b === null ? [message(LD(1), pp)] : [message(LD(1), pp), message(LD(2), b)];
  for (const p of c.prepares) {
    const v = voteBytes(p);
    if (v === null) return null;
    fields.push(message(LD(3), v));
  }
  return assemble(fields);
}

/**
 * Canonical PbftCommitCertificate bytes, or null; without the batch field (a
 * PbftExecutedBatchLogged) when `withBatch` is false.
 */
export function commitCertificateBytes(
  c: Pick<PbftCommitCertificate, 'batch' | 'commits'>,
  withBatch = true,
): Uint8Array | null {
  const b = withBatch ? batchBytes(c.batch) : null;
  if (withBatch && b === null) return null;
  const fields: Field[] = b === null ? [] : [message(LD(1), b)];
  for (const commit of c.commits) {
    const v = voteBytes(commit);
    if (v === null) return null;
    fields.push(message(LD(2), v));
  }
  return assemble(fields);
}

/** `bytes` as embedded message field `n` (< 16) of an enclosing message: the oneof members of PbftMessage and PbftWalRecord. */
export function wrapAsField(n: number, bytes: Uint8Array): Uint8Array {
  return assemble([message(LD(n), bytes)]);
}

/** A signed message's bytes (`body` = 1, `signature` = 2), from its body's bytes. */
export function signedMessageBytes(body: Uint8Array, signature: Uint8Array): Uint8Array {
  return assemble([message(LD(1), body), [LD(2), 'bytes', signature]]);
}

/**
 * A NEW-VIEW's WAL record (PbftNewViewRecord, field 6 of PbftWalRecord) from the bytes of
 * the NEW-VIEW and of the VIEW-CHANGEs it names, whose bodies are views into the frames
 * they came in: for eleven VIEW-CHANGEs of 36 KB (n = 16 under load), 0.12 ms against
 * 1.4 ms through protobufjs objects on one free core.
 */
export function newViewRecordBytes(newView: Uint8Array, viewChanges: readonly Uint8Array[]): Uint8Array {
  return wrapAsField(6, assemble([message(LD(1), newView), ...viewChanges.map((v) => message(LD(2), v))]));
}

/** The PbftMessage bytes of `m`, made once per object (the same frame goes to every peer and into the WAL). */
export function frameBytes<M extends object>(m: M, make: (m: M) => Uint8Array): Uint8Array {
  return remembered(frames, m, () => make(m));
}
