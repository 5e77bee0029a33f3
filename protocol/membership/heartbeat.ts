/**
 * Membership heartbeats: a node's signed, sequence-numbered statement that it
 * is alive. Same discipline as PCI envelopes (protocol/README.md): the
 * signature covers the canonical HeartbeatBody bytes under the domain tag
 * `bizra/heartbeat/v1`, a receiver re-encodes what it decoded and refuses bytes
 * that differ, and the outer message has one layout (body, then the 64-byte
 * signature). Pure: no clock, no I/O.
 */
import { type Cursor, minimalVarint } from '../codec/canonical-varint.ts';
import { EnvelopeWireError, joinEnvelope, splitEnvelope } from '../codec/envelope-wire.ts';
import { HeartbeatBodyType } from '../codec/schema.ts';
import { domainDigest } from '../crypto/blake3.ts';
import { DOMAINS } from '../crypto/domains.ts';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  type Ed25519Signer,
  type Ed25519Verifier,
} from '../crypto/ed25519.ts';

export interface HeartbeatFields {
  senderPublicKey: Uint8Array;
  incarnation: number;
  sequence: number;
  timestampMs: number;
  consensusHeight: number;
  loadPermille: number;
  gpu: boolean;
}

export type HeartbeatResult =
  | { ok: true; heartbeat: HeartbeatFields }
  | { ok: false; reason: string /** malformed or forged: no honest relay forwards it */; invalid: boolean };

/** Heartbeats are small; anything larger is not one. */
export const MAX_HEARTBEAT_BYTES = 512;

const MAX_UINT53 = Number.MAX_SAFE_INTEGER;

/** Canonical HeartbeatBody bytes: proto3 defaults omitted, fields in number order. */
export function encodeHeartbeatBody(f: HeartbeatFields): Uint8Array {
  const message: Record<string, unknown> = { senderPublicKey: f.senderPublicKey };
  if (f.incarnation !== 0) message['incarnation'] = f.incarnation;
  if (f.sequence !== 0) message['sequence'] = f.sequence;
  if (f.timestampMs !== 0) message['timestampMs'] = f.timestampMs;
  if (f.consensusHeight !== 0) message['consensusHeight'] = f.consensusHeight;
  if (f.loadPermille !== 0) message['loadPermille'] = f.loadPermille;
  if (f.gpu) message['gpu'] = true;
  return new Uint8Array(HeartbeatBodyType.encode(message).finish());
}

/** Why fields cannot be a heartbeat, or null. */
export function checkHeartbeatFields(f: HeartbeatFields): string | null {
  if (!(f.senderPublicKey instanceof Uint8Array) || f.senderPublicKey.length !== 32) {
    return 'senderPublicKey must be 32 bytes';
  }
  for (const [name, v, min] of [
    ['incarnation', f.incarnation, 1],
    ['sequence', f.sequence, 1],
    ['timestampMs', f.timestampMs, 1],
    ['consensusHeight', f.consensusHeight, 0],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < min || v > MAX_UINT53)
      return `${name} must be an integer from ${min} to 2^53-1`;
  }
  if (!Number.isInteger(f.loadPermille) || f.loadPermille < 0 || f.loadPermille > 0xffff_ffff) {
    return 'loadPermille must be a uint32';
  }
  return null;
}

export function signHeartbeat(fields: Omit<HeartbeatFields, 'senderPublicKey'>, signer: Ed25519Signer): Uint8Array {
  const full: HeartbeatFields = { ...fields, senderPublicKey: signer.publicKey };
  const problem = checkHeartbeatFields(full);
  if (problem !== null) throw new RangeError(`heartbeat ${problem}`);
  const body = encodeHeartbeatBody(full);
  return joinEnvelope(body, signer.sign(domainDigest(DOMAINS.HEARTBEAT, body)));
}

/** A signed heartbeat read from canonical wire bytes; byte fields are views into them. */
export interface ParsedHeartbeat {
  heartbeat: HeartbeatFields;
  /** The HeartbeatBody bytes, what the signature covers. */
  body: Uint8Array;
  signature: Uint8Array;
}

/** Tag bytes (field number << 3 | wire type) of SignedHeartbeat and HeartbeatBody. */
const TAG_BODY = 0x0a; // SignedHeartbeat 1, length-delimited
const TAG_SIGNATURE = 0x12; // SignedHeartbeat 2, length-delimited
const TAG_SENDER_PUBLIC_KEY = 0x0a; // 1, length-delimited
const TAG_INCARNATION = 0x10; // 2, varint
const TAG_SEQUENCE = 0x18; // 3, varint
const TAG_TIMESTAMP_MS = 0x20; // 4, varint
const TAG_CONSENSUS_HEIGHT = 0x28; // 5, varint
const TAG_LOAD_PERMILLE = 0x30; // 6, varint
const TAG_GPU = 0x38; // 7, varint (bool)

/** A uint64 field that must be present: 1 to 2^53 - 1, at most 8 varint bytes; -1 otherwise. */
function requiredUint53(c: Cursor, b: Uint8Array, end: number, tag: number): number {
  if (b[c.at] !== tag) return -1;
  c.at++;
  const v = minimalVarint(c, b, end, 8);
  return v >= 1 && v <= Number.MAX_SAFE_INTEGER ? v : -1;
}

/**
 * The heartbeat in `bytes` if and only if they are the canonical SignedHeartbeat of
 * valid fields (what `signHeartbeat` writes); null for anything else. Does not check
 * the signature. One pass, no protobuf decoder, no re-encoding, no copies: relays read
 * every heartbeat several times over (once per neighbour that forwards it) and most
 * are duplicates dropped on (incarnation, sequence) before any signature is checked.
 *
 *   0a <len> [ 0a 20 <32-byte key>  10 <incarnation>  18 <sequence>  20 <timestamp>
 *              [28 <height >= 1>]  [30 <load 1..2^32-1>]  [38 01] ]  12 40 <64-byte signature>
 *
 * with every varint minimal and nothing else. Never throws.
 */
export function readSignedHeartbeat(bytes: Uint8Array): ParsedHeartbeat | null {
  const b = bytes;
  if (!(b instanceof Uint8Array) || b.length > MAX_HEARTBEAT_BYTES || b[0] !== TAG_BODY) return null;
  const c: Cursor = { at: 1 };
  const bodyLength = minimalVarint(c, b, b.length, 2);
  const end = c.at + bodyLength;
  if (bodyLength < 0 || end + 2 + ED25519_SIGNATURE_BYTES !== b.length) return null;
  if (b[end] !== TAG_SIGNATURE || b[end + 1] !== ED25519_SIGNATURE_BYTES) return null;
  const bodyStart = c.at;
  if (b[c.at] !== TAG_SENDER_PUBLIC_KEY || b[c.at + 1] !== ED25519_PUBLIC_KEY_BYTES) return null;
  c.at += 2;
  if (end - c.at < ED25519_PUBLIC_KEY_BYTES) return null;
  const senderPublicKey = b.subarray(c.at, c.at + ED25519_PUBLIC_KEY_BYTES);
  c.at += ED25519_PUBLIC_KEY_BYTES;
  const incarnation = requiredUint53(c, b, end, TAG_INCARNATION);
  if (incarnation < 0) return null;
  const sequence = requiredUint53(c, b, end, TAG_SEQUENCE);
  if (sequence < 0) return null;
  const timestampMs = requiredUint53(c, b, end, TAG_TIMESTAMP_MS);
  if (timestampMs < 0) return null;
  let consensusHeight = 0;
  if (c.at < end && b[c.at] === TAG_CONSENSUS_HEIGHT) {
    consensusHeight = requiredUint53(c, b, end, TAG_CONSENSUS_HEIGHT);
    if (consensusHeight < 0) return null;
  }
  let loadPermille = 0;
  if (c.at < end && b[c.at] === TAG_LOAD_PERMILLE) {
    c.at++;
    loadPermille = minimalVarint(c, b, end, 5);
    if (loadPermille < 1 || loadPermille > 0xffff_ffff) return null;
  }
  let gpu = false;
  if (c.at < end && b[c.at] === TAG_GPU) {
    if (b[c.at + 1] !== 1) return null;
    gpu = true;
    c.at += 2;
  }
  if (c.at !== end) return null;
  return {
    heartbeat: { senderPublicKey, incarnation, sequence, timestampMs, consensusHeight, loadPermille, gpu },
    body: b.subarray(bodyStart, end),
    signature: b.subarray(end + 2),
  };
}

/** Whether the parsed heartbeat's signature is its sender's, under the heartbeat domain tag. */
export function heartbeatSignatureValid(parsed: ParsedHeartbeat, keys: Ed25519Verifier): boolean {
  return keys.verify(parsed.heartbeat.senderPublicKey, domainDigest(DOMAINS.HEARTBEAT, parsed.body), parsed.signature);
}

/** Reads and checks the signature. Never throws. */
export function verifyHeartbeat(bytes: Uint8Array, keys: Ed25519Verifier): HeartbeatResult {
  const parsed = readSignedHeartbeat(bytes);
  if (parsed === null) return { ok: false, reason: explainHeartbeat(bytes), invalid: true };
  if (!heartbeatSignatureValid(parsed, keys)) {
    return { ok: false, reason: 'heartbeat signature does not verify', invalid: true };
  }
  return {
    ok: true,
    heartbeat: { ...parsed.heartbeat, senderPublicKey: new Uint8Array(parsed.heartbeat.senderPublicKey) },
  };
}

/**
 * Why `readSignedHeartbeat` refused `bytes`, for logs and error messages: decodes
 * leniently with protobufjs and names the first problem. Slow; only for the refused.
 */
export function explainHeartbeat(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) return 'heartbeat must be bytes';
  if (bytes.length > MAX_HEARTBEAT_BYTES) return `heartbeat is ${bytes.length} bytes; at most ${MAX_HEARTBEAT_BYTES}`;
  try {
    const parts = splitEnvelope(bytes);
    const decoded = HeartbeatBodyType.toObject(HeartbeatBodyType.decode(parts.body), {
      longs: Number,
      defaults: true,
    }) as Record<string, unknown>;
    const fields: HeartbeatFields = {
      senderPublicKey: new Uint8Array((decoded['senderPublicKey'] as Uint8Array) ?? []),
      incarnation: Number(decoded['incarnation']),
      sequence: Number(decoded['sequence']),
      timestampMs: Number(decoded['timestampMs']),
      consensusHeight: Number(decoded['consensusHeight']),
      loadPermille: Number(decoded['loadPermille']),
      gpu: decoded['gpu'] === true,
    };
    const problem = checkHeartbeatFields(fields);
    if (problem !== null) return `heartbeat ${problem}`;
    const canonical = encodeHeartbeatBody(fields);
    if (canonical.length !== parts.body.length || Buffer.compare(canonical, parts.body) !== 0) {
      return 'heartbeat body is not canonically encoded';
    }
    return 'heartbeat is not canonically encoded';
  } catch (err) {
    return err instanceof EnvelopeWireError ? err.message : `undecodable heartbeat: ${(err as Error)?.message}`;
  }
}
