/** Shared test material: a fixed key and envelope, and small byte helpers. */

import type { Writer } from 'protobufjs';
import { joinEnvelope } from '../codec/envelope-wire.ts';
import { protobuf } from '../codec/schema.ts';
import { domainDigest } from '../crypto/blake3.ts';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import type { UnsignedEnvelopeFields } from '../pci/fields.ts';
import { type EnvelopeFields, encodeBody } from '../pci/fields.ts';

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/** The golden key: seed bytes 0x00, 0x01, ..., 0x1f. */
export const GOLDEN_SEED = Uint8Array.from({ length: 32 }, (_, i) => i);

/** 2026-01-01T00:00:00.000Z */
export const T0 = Date.UTC(2026, 0, 1);

/** The golden envelope's fields (protocol/test/fixtures/envelope.bin is these, signed with GOLDEN_SEED). */
export function goldenFields(): UnsignedEnvelopeFields {
  return {
    agentType: 'MODEL',
    payload: {
      contentType: 'application/json',
      data: new TextEncoder().encode('{"claim":"water is wet","confidence":0.99}'),
    },
    timestampMs: T0,
    ttlSeconds: 300,
    ihsanScore: 0.97,
    snrScore: 0.9,
    nonce: Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i),
  };
}

/** Golden fields with some replaced. */
export function fields(over: Partial<UnsignedEnvelopeFields> = {}): UnsignedEnvelopeFields {
  return { ...goldenFields(), ...over };
}

export const GOLDEN_SIGNER = Ed25519Signer.fromSeed(GOLDEN_SEED);

/** Signs arbitrary body bytes properly, so that whatever is wrong with them is not the signature. */
export function signRawBody(body: Uint8Array, signer: Ed25519Signer = GOLDEN_SIGNER): Uint8Array {
  return joinEnvelope(body, signer.sign(domainDigest('bizra/pci/v1', body)));
}

/** Canonical body bytes of fields, without any checks (to build invalid envelopes). */
export function rawBody(over: Partial<EnvelopeFields> = {}): Uint8Array {
  return encodeBody({ ...goldenFields(), senderPublicKey: GOLDEN_SIGNER.publicKey, ...over });
}

/** A protobuf Writer, for hand-made encodings. */
export const writer = (): Writer => protobuf.Writer.create();

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** The top-level fields of a message, as [field number, raw bytes including the tag], in wire order. */
export function fieldsOf(message: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  const r = new protobuf.Reader(message);
  while (r.pos < r.len) {
    const start = r.pos;
    const tag = r.uint32();
    r.skipType(tag & 7);
    out.push([tag >>> 3, message.subarray(start, r.pos)]);
  }
  return out;
}
export function fieldBytes(message: Uint8Array, n: number): Uint8Array {
  return concat(
    ...fieldsOf(message)
      .filter(([k]) => k === n)
      .map(([, b]) => b),
  );
}
export function removeField(message: Uint8Array, n: number): Uint8Array {
  return concat(
    ...fieldsOf(message)
      .filter(([k]) => k !== n)
      .map(([, b]) => b),
  );
}
export function replaceField(message: Uint8Array, n: number, replacement: Uint8Array): Uint8Array {
  return concat(...fieldsOf(message).map(([k, b]) => (k === n ? replacement : b)));
}
