/**
 * Golden bytes: a fixed envelope must encode to exactly these bytes, so the wire
 * format (and what gets signed) cannot drift silently. If this fails, the encoding
 * changed: that breaks every deployed node's signatures and needs a new domain tag and
 * package version, not a new golden value.
 *
 * fixtures/envelope.bin holds the same bytes, written once with
 * `writeFileSync(path, signEnvelope(goldenFields(), GOLDEN_SEED).bytes)`, for protoc and
 * other implementations to read.
 */
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { describe, expect, it } from 'vitest';
import { splitEnvelope } from '../codec/envelope-wire.ts';
import { protobuf } from '../codec/schema.ts';
import { signEnvelope } from '../pci/sign.ts';
import { EnvelopeVerifier } from '../pci/verify.ts';
import { GOLDEN_SEED, goldenFields, hex, T0, unhex } from './helpers.ts';

const GOLDEN_HEX =
  '0a9201' + // Envelope.body (field 1, length-delimited), 146 bytes
  '0802' + // agent_type = MODEL (2)
  '123e' + // payload, 62 bytes:
  '0a106170706c69636174696f6e2f6a736f6e' + //   content_type = "application/json"
  '122a7b22636c61696d223a22776174657220697320776574222c22636f6e666964656e6365223a302e39397d' + //   data
  '1a2003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8' + // sender_public_key
  '2080d0eab6b733' + // timestamp_ms = 1767225600000 (varint)
  '28ac02' + // ttl_seconds = 300
  '310ad7a3703d0aef3f' + // ihsan_score = 0.97 (fixed64, IEEE 754 little-endian)
  '39cdccccccccccec3f' + // snr_score = 0.9
  '4210a0a1a2a3a4a5a6a7a8a9aaabacadaeaf' + // nonce
  '1240' + // Envelope.signature (field 2), 64 bytes
  '753cde6f86cfa4b4e6ce9d7898db497f232e29ed622d167262a3e1dad51b0ab9db2b65967f7f2563b44339d384ffc764be987e8f06a86b5d1cfdac35c9d96e00';

const GOLDEN_ID = '6b7a32608adc8580d524cfd105f3e4826a3292a18f358ebe453e52f18e8c68fb';

describe('golden envelope', () => {
  const signed = signEnvelope(goldenFields(), GOLDEN_SEED);

  it('encodes to the committed bytes and id', () => {
    expect(hex(signed.bytes)).toBe(GOLDEN_HEX);
    expect(signed.idHex).toBe(GOLDEN_ID);
    expect(hex(signed.id)).toBe(GOLDEN_ID);
  });

  it('is the committed fixture protocol/test/fixtures/envelope.bin', () => {
    const fixture = readFileSync(new URL('./fixtures/envelope.bin', import.meta.url));
    expect(hex(fixture)).toBe(GOLDEN_HEX);
  });

  it('id = BLAKE3("bizra/pci/v1" || 0x00 || body), computed independently with @noble/hashes', () => {
    const { body } = splitEnvelope(unhex(GOLDEN_HEX));
    const digest = nobleBlake3(Buffer.concat([Buffer.from('bizra/pci/v1\0', 'latin1'), body]));
    expect(hex(digest)).toBe(GOLDEN_ID);
  });

  it('the signature verifies with @noble/curves over the id', () => {
    const { signature } = splitEnvelope(unhex(GOLDEN_HEX));
    const pub = ed25519.getPublicKey(GOLDEN_SEED);
    expect(ed25519.verify(signature, unhex(GOLDEN_ID), pub)).toBe(true);
  });

  it('body fields are in field-number order, each once; doubles are 8-byte little-endian', () => {
    const { body } = splitEnvelope(unhex(GOLDEN_HEX));
    const r = new protobuf.Reader(body);
    const seen: number[] = [];
    while (r.pos < r.len) {
      const tag = r.uint32();
      seen.push(tag >>> 3);
      if ((tag & 7) === 1) {
        const at = r.pos;
        const value = r.double();
        expect(Buffer.from(body.subarray(at, at + 8)).readDoubleLE(0)).toBe(value);
      } else r.skipType(tag & 7);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('verifies, and re-signing gives the same bytes (Ed25519 is deterministic)', () => {
    expect(new EnvelopeVerifier().verify(signed.bytes, T0 + 1000).ok).toBe(true);
    expect(hex(signEnvelope(goldenFields(), GOLDEN_SEED).bytes)).toBe(GOLDEN_HEX);
  });
});
