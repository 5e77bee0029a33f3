/**
 * Membership heartbeats: a node's signed, sequence-numbered statement that it
 * is alive. Same discipline as PCI envelopes (protocol/README.md): the
 * signature covers the canonical HeartbeatBody bytes under the domain tag
 * `bizra/heartbeat/v1`, a receiver re-encodes what it decoded and refuses bytes
 * that differ, and the outer message has one layout (body, then the 64-byte
 * signature). Pure: no clock, no I/O.
 */
import { EnvelopeWireError, joinEnvelope, splitEnvelope } from '../codec/envelope-wire.ts';
import { HeartbeatBodyType } from '../codec/schema.ts';
import { domainDigest } from '../crypto/blake3.ts';
import { DOMAINS } from '../crypto/domains.ts';
import type { Ed25519Signer, Ed25519Verifier } from '../crypto/ed25519.ts';

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

/** Decodes, checks the canonical form and the signature. Never throws. */
export function verifyHeartbeat(bytes: Uint8Array, keys: Ed25519Verifier): HeartbeatResult {
  const invalid = (reason: string): HeartbeatResult => ({ ok: false, reason, invalid: true });
  if (!(bytes instanceof Uint8Array)) return invalid('heartbeat must be bytes');
  if (bytes.length > MAX_HEARTBEAT_BYTES)
    return invalid(`heartbeat is ${bytes.length} bytes; at most ${MAX_HEARTBEAT_BYTES}`);
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
    if (problem !== null) return invalid(`heartbeat ${problem}`);
    const canonical = encodeHeartbeatBody(fields);
    if (canonical.length !== parts.body.length || Buffer.compare(canonical, parts.body) !== 0) {
      return invalid('heartbeat body is not canonically encoded');
    }
    if (!keys.verify(fields.senderPublicKey, domainDigest(DOMAINS.HEARTBEAT, parts.body), parts.signature)) {
      return invalid('heartbeat signature does not verify');
    }
    return { ok: true, heartbeat: fields };
  } catch (err) {
    return invalid(
      err instanceof EnvelopeWireError ? err.message : `undecodable heartbeat: ${(err as Error)?.message}`,
    );
  }
}
