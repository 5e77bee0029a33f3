/**
 * A single-pass reader for the frames of the normal case (PbftMessage holding a
 * proposal, a PREPARE or a COMMIT), the bulk of what a validator receives: it builds
 * the typed message straight from the bytes, with byte fields as views into them, where
 * protobufjs would build a reader, an object per field and a converted copy of each.
 *
 * It reads only the canonical form, the bytes encodePbftMessage writes: fields in
 * ascending number order with the wire type the schema gives, varints in their shortest
 * form, zero numbers and empty bytes left out (proto3's defaults), embedded messages
 * always written. It answers null for anything else (unknown or repeated fields, bad
 * lengths, varints over 2^53 - 1, a default written out, a padded varint):
 * decodePbftMessage then takes its general path, which decides. So what it reads needs
 * no re-encoding to prove it canonical (re-encoding a proposal copied its whole batch
 * twice over, a few per cent of a validator's time at saturation); the structure rules
 * still apply. protocol/test/pbft-normal-case-reader.test.ts checks, over thousands of
 * damaged frames, that decodePbftMessage accepts exactly what protobufjs plus the
 * canonical check accepts, with the same message.
 */
import { rememberReadBatch, rememberReadBytes, rememberReadRequestBody } from './normal-case-bytes.ts';
import type { PbftMessage, PbftPrePrepare, PbftRequest, PbftVoteFields } from './types.ts';

/** Where a read stands in the bytes: one per read, so concurrent readers never share it. */
export interface Cursor {
  at: number;
}

const MAX_UINT53 = Number.MAX_SAFE_INTEGER;

/** A varint in its shortest form ending before `end`, at most 2^53 - 1; -1 if not. */
function varint(b: Uint8Array, c: Cursor, end: number): number {
  let value = 0;
  let scale = 1;
  for (let p = c.at; p < end && p < c.at + 8; p++) {
    const x = b[p]!;
    value += (x & 0x7f) * scale;
    if (x < 0x80) {
      // A last byte of 0 after others pads the number: not the shortest form.
      if (x === 0 && p > c.at) return -1;
      c.at = p + 1;
      return value <= MAX_UINT53 ? value : -1;
    }
    scale *= 128;
  }
  return -1;
}

/** The end of a length-delimited field whose length starts at c.at (moved past the length); -1 if it overruns `end`. */
export function delimited(b: Uint8Array, c: Cursor, end: number): number {
  const n = varint(b, c, end);
  if (n < 0 || c.at + n > end) return -1;
  return c.at + n;
}

/** The byte at c.at (the next field's tag), or -1 at `end`; not consumed. */
export const peek = (b: Uint8Array, c: Cursor, end: number): number => (c.at < end ? b[c.at]! : -1);

const EMPTY = (): Uint8Array => new Uint8Array(0);

/** A varint field that proto3 leaves out when 0: its value, 0 if the next tag is not `tag`, -1 if malformed or a written-out 0. */
export function optionalUint(b: Uint8Array, c: Cursor, end: number, tag: number): number {
  if (peek(b, c, end) !== tag) return 0;
  c.at++;
  const v = varint(b, c, end);
  return v === 0 ? -1 : v;
}

/** A bytes field that proto3 leaves out when empty: a view of its bytes, empty if absent, null if malformed. */
export function optionalBytes(b: Uint8Array, c: Cursor, end: number, tag: number): Uint8Array | null {
  if (peek(b, c, end) !== tag) return EMPTY();
  c.at++;
  const e = delimited(b, c, end);
  if (e < 0 || e === c.at) return null; // a written-out empty value is not canonical
  const bytes = b.subarray(c.at, e);
  c.at = e;
  return bytes;
}

/** PbftVoteBody and its signature (a PbftPrePrepare, PbftPrepare or PbftCommit) between c.at and end. */
export function vote<T extends 'pre-prepare' | 'prepare' | 'commit'>(
  b: Uint8Array,
  c: Cursor,
  end: number,
  type: T,
): (PbftVoteFields & { readonly type: T }) | null {
  const start = c.at;
  if (peek(b, c, end) !== 0x0a) return null; // the body is always written
  c.at++;
  const bodyEnd = delimited(b, c, end);
  if (bodyEnd < 0) return null;
  const bodyStart = c.at;
  const view = optionalUint(b, c, bodyEnd, 0x08);
  if (view < 0) return null;
  const seq = optionalUint(b, c, bodyEnd, 0x10);
  if (seq < 0) return null;
  const digest = optionalBytes(b, c, bodyEnd, 0x1a);
  if (digest === null) return null;
  const replica = optionalUint(b, c, bodyEnd, 0x20);
  if (replica < 0 || c.at !== bodyEnd) return null;
  const signature = optionalBytes(b, c, end, 0x12);
  if (signature === null || c.at !== end) return null;
  const v = { type, view, seq, digest, replica, signature };
  rememberReadBytes(v, b.subarray(bodyStart, bodyEnd), b.subarray(start, end));
  return v;
}

/** A PbftRequest between c.at and end. */
function request(b: Uint8Array, c: Cursor, end: number): PbftRequest | null {
  if (peek(b, c, end) !== 0x0a) return null;
  c.at++;
  const bodyEnd = delimited(b, c, end);
  if (bodyEnd < 0) return null;
  const bodyStart = c.at;
  const client = optionalBytes(b, c, bodyEnd, 0x0a);
  if (client === null) return null;
  const timestamp = optionalUint(b, c, bodyEnd, 0x10);
  if (timestamp < 0) return null;
  const operation = optionalBytes(b, c, bodyEnd, 0x1a);
  if (operation === null || c.at !== bodyEnd) return null;
  const signature = optionalBytes(b, c, end, 0x12);
  if (signature === null || c.at !== end) return null;
  const r: PbftRequest = { type: 'request', client, timestamp, operation, signature };
  rememberReadRequestBody(r, b.subarray(bodyStart, bodyEnd));
  return r;
}

/** The proposal, PREPARE or COMMIT a PbftMessage frame holds; null for any other frame or any doubt. */
export function readNormalCaseFrame(b: Uint8Array): PbftMessage | null {
  const tag = b[0];
  if (tag !== 0x12 && tag !== 0x1a && tag !== 0x22) return null;
  const c: Cursor = { at: 1 };
  const end = delimited(b, c, b.length);
  if (end !== b.length) return null;
  if (tag === 0x1a) return vote(b, c, end, 'prepare');
  if (tag === 0x22) return vote(b, c, end, 'commit');
  // PbftProposal: pre_prepare = 1, batch = 2 (both embedded messages, always written).
  if (peek(b, c, end) !== 0x0a) return null;
  c.at++;
  const ppEnd = delimited(b, c, end);
  if (ppEnd < 0) return null;
  const prePrepare: PbftPrePrepare | null = vote(b, c, ppEnd, 'pre-prepare');
  if (prePrepare === null || peek(b, c, end) !== 0x12) return null;
  c.at++;
  const batchEnd = delimited(b, c, end);
  if (batchEnd !== end) return null;
  const batchStart = c.at;
  const batch: PbftRequest[] = [];
  while (c.at < batchEnd) {
    if (b[c.at] !== 0x0a) return null;
    c.at++;
    const rEnd = delimited(b, c, batchEnd);
    if (rEnd < 0) return null;
    const r = request(b, c, rEnd);
    if (r === null) return null;
    batch.push(r);
  }
  rememberReadBatch(batch, b.subarray(batchStart, batchEnd));
  return { type: 'proposal', prePrepare, batch };
}
