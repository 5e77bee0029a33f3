/**
 * A single-pass reader for VIEW-CHANGE and NEW-VIEW frames, on the rules of
 * normal-case-reader.ts: only the canonical form (fields in number order, shortest
 * varints, defaults left out, embedded messages always written), null for anything else,
 * which then takes decodePbftMessage's general path. It keeps each signed body's bytes
 * (rememberReadBody), so the signature digests hash views into the frame instead of
 * encoding the bodies again.
 *
 * Why: under overload at n = 16 a replica spent about a quarter of its time on view
 * changes decoding these through protobufjs, re-encoding them to prove them canonical and
 * encoding their bodies again for the digests; a VIEW-CHANGE holds a prepared certificate
 * (2f + 1 signed votes) per sequence number (a NEW-VIEW names 2f + 1 of them by digest).
 * protocol/test/pbft-view-change-reader.test.ts checks it against protobufjs over
 * thousands of damaged frames.
 */
import { rememberReadBody } from './normal-case-bytes.ts';
import { type Cursor, delimited, optionalBytes, optionalUint, peek, vote } from './normal-case-reader.ts';
import type {
  PbftCheckpoint,
  PbftMessage,
  PbftNewView,
  PbftPrePrepare,
  PbftPrepare,
  PbftPreparedProof,
  PbftViewChange,
  PbftViewChangeRef,
} from './types.ts';

/** An embedded message field `tag` (always written): its end, with c.at at its start; -1 if absent or malformed. */
function embedded(b: Uint8Array, c: Cursor, end: number, tag: number): number {
  if (peek(b, c, end) !== tag) return -1;
  c.at++;
  return delimited(b, c, end);
}

/** Reads a repeated embedded field `tag`, each element with `read`; null if one is malformed. */
function repeated<X>(
  b: Uint8Array,
  c: Cursor,
  end: number,
  tag: number,
  read: (c: Cursor, end: number) => X | null,
): X[] | null {
  const out: X[] = [];
  while (peek(b, c, end) === tag) {
    c.at++;
    const e = delimited(b, c, end);
    if (e < 0) return null;
    const x = read(c, e);
    if (x === null || c.at !== e) return null;
    out.push(x);
  }
  return out;
}

function checkpoint(b: Uint8Array, c: Cursor, end: number): PbftCheckpoint | null {
  const bodyEnd = embedded(b, c, end, 0x0a);
  if (bodyEnd < 0) return null;
  const bodyStart = c.at;
  const seq = optionalUint(b, c, bodyEnd, 0x08);
  const stateDigest = optionalBytes(b, c, bodyEnd, 0x12);
  const replica = optionalUint(b, c, bodyEnd, 0x18);
  if (seq < 0 || stateDigest === null || replica < 0 || c.at !== bodyEnd) return null;
  const signature = optionalBytes(b, c, end, 0x12);
  if (signature === null || c.at !== end) return null;
  const cp: PbftCheckpoint = { type: 'checkpoint', seq, stateDigest, replica, signature };
  rememberReadBody(cp, b.subarray(bodyStart, bodyEnd));
  return cp;
}

function preparedProof(b: Uint8Array, c: Cursor, end: number): PbftPreparedProof | null {
  const ppEnd = embedded(b, c, end, 0x0a);
  if (ppEnd < 0) return null;
  const prePrepare: PbftPrePrepare | null = vote(b, c, ppEnd, 'pre-prepare');
  if (prePrepare === null) return null;
  const prepares = repeated(b, c, end, 0x1a, (cc, e): PbftPrepare | null => vote(b, cc, e, 'prepare'));
  if (prepares === null || c.at !== end) return null;
  return { prePrepare, prepares };
}

function viewChange(b: Uint8Array, c: Cursor, end: number): PbftViewChange | null {
  const bodyEnd = embedded(b, c, end, 0x0a);
  if (bodyEnd < 0) return null;
  const bodyStart = c.at;
  const newView = optionalUint(b, c, bodyEnd, 0x08);
  const checkpointSeq = newView < 0 ? -1 : optionalUint(b, c, bodyEnd, 0x10);
  if (checkpointSeq < 0) return null;
  const checkpointProof = repeated(b, c, bodyEnd, 0x1a, (cc, e) => checkpoint(b, cc, e));
  if (checkpointProof === null) return null;
  const replica = optionalUint(b, c, bodyEnd, 0x28);
  if (replica < 0) return null;
  const prepared = repeated(b, c, bodyEnd, 0x32, (cc, e) => preparedProof(b, cc, e));
  if (prepared === null || c.at !== bodyEnd) return null;
  const signature = optionalBytes(b, c, end, 0x12);
  if (signature === null || c.at !== end) return null;
  const vc: PbftViewChange = {
    type: 'view-change',
    newView,
    checkpointSeq,
    checkpointProof,
    prepared,
    replica,
    signature,
  };
  rememberReadBody(vc, b.subarray(bodyStart, bodyEnd));
  return vc;
}

function viewChangeRef(b: Uint8Array, c: Cursor, end: number): PbftViewChangeRef | null {
  const replica = optionalUint(b, c, end, 0x08);
  const digest = replica < 0 ? null : optionalBytes(b, c, end, 0x12);
  return digest === null ? null : { replica, digest };
}

function newView(b: Uint8Array, c: Cursor, end: number): PbftNewView | null {
  const bodyEnd = embedded(b, c, end, 0x0a);
  if (bodyEnd < 0) return null;
  const bodyStart = c.at;
  const view = optionalUint(b, c, bodyEnd, 0x08);
  if (view < 0) return null;
  const viewChanges = repeated(b, c, bodyEnd, 0x12, (cc, e) => viewChangeRef(b, cc, e));
  if (viewChanges === null) return null;
  const prePrepares = repeated(b, c, bodyEnd, 0x1a, (cc, e): PbftPrePrepare | null => vote(b, cc, e, 'pre-prepare'));
  if (prePrepares === null) return null;
  const replica = optionalUint(b, c, bodyEnd, 0x20);
  if (replica < 0 || c.at !== bodyEnd) return null;
  const signature = optionalBytes(b, c, end, 0x12);
  if (signature === null || c.at !== end) return null;
  const nv: PbftNewView = { type: 'new-view', view, viewChanges, prePrepares, replica, signature };
  rememberReadBody(nv, b.subarray(bodyStart, bodyEnd));
  return nv;
}

/** The VIEW-CHANGE or NEW-VIEW a PbftMessage frame holds; null for any other frame or any doubt. */
export function readViewChangeFrame(b: Uint8Array): PbftMessage | null {
  const tag = b[0];
  if (tag !== 0x32 && tag !== 0x3a) return null; // view_change = 6, new_view = 7
  const c: Cursor = { at: 1 };
  const end = delimited(b, c, b.length);
  if (end !== b.length) return null;
  return tag === 0x32 ? viewChange(b, c, end) : newView(b, c, end);
}
