/**
 * Signing a PCI envelope: the canonical body bytes, their domain digest (which is also
 * the envelope id), the Ed25519 signature of that digest, and the wire bytes.
 * The nonce is the caller's: this stays deterministic, and a sender draws it with
 * crypto.randomBytes(16).
 */
import { joinEnvelope } from '../codec/envelope-wire.ts';
import { domainDigest } from '../crypto/blake3.ts';
import { DOMAINS } from '../crypto/domains.ts';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import {
  assertFields,
  type DecodedEnvelope,
  type EnvelopeFields,
  encodeBody,
  type UnsignedEnvelopeFields,
} from './fields.ts';

export interface SignedEnvelope {
  /** Envelope wire bytes (what goes on the stream, in gossip and into storage). */
  bytes: Uint8Array;
  /** 32-byte envelope id: domainDigest('bizra/pci/v1', body bytes). */
  id: Uint8Array;
  idHex: string;
  envelope: DecodedEnvelope;
}

/**
 * Signs `fields` with a 32-byte Ed25519 seed (or a signer holding one), filling in
 * senderPublicKey. Throws EnvelopeFieldError, naming the field, for fields a verifier
 * would call malformed, so nothing signed here can be refused as R005 (except by a
 * node whose policy sets a lower maxTtlSeconds or maxEnvelopeBytes).
 */
export function signEnvelope(fields: UnsignedEnvelopeFields, key: Uint8Array | Ed25519Signer): SignedEnvelope {
  const signer = key instanceof Ed25519Signer ? key : Ed25519Signer.fromSeed(key);
  const body: EnvelopeFields = {
    agentType: fields.agentType,
    payload: fields.payload,
    senderPublicKey: signer.publicKey,
    timestampMs: fields.timestampMs,
    ttlSeconds: fields.ttlSeconds,
    ihsanScore: fields.ihsanScore,
    snrScore: fields.snrScore,
    nonce: fields.nonce,
  };
  assertFields(body);
  const bodyBytes = encodeBody(body);
  const id = domainDigest(DOMAINS.PCI_ENVELOPE, bodyBytes);
  const signature = signer.sign(id);
  return {
    bytes: joinEnvelope(bodyBytes, signature),
    id,
    idHex: Buffer.from(id).toString('hex'),
    envelope: { ...body, signature },
  };
}
