import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinEnvelope, splitEnvelope } from '../codec/envelope-wire.ts';
import { HeartbeatBatchType, HeartbeatBodyType } from '../codec/schema.ts';
import { domainDigest } from '../crypto/blake3.ts';
import { Ed25519Signer, Ed25519Verifier } from '../crypto/ed25519.ts';
import {
  checkHeartbeatFields,
  encodeHeartbeatBody,
  heartbeatSignatureValid,
  readSignedHeartbeat,
  signHeartbeat,
  verifyHeartbeat,
} from '../membership/heartbeat.ts';
import { decodeHeartbeatBatch, encodeHeartbeatBatch } from '../membership/heartbeat-batch.ts';

const signer = Ed25519Signer.fromSeed(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
const keys = new Ed25519Verifier();
const fields = {
  incarnation: 3,
  sequence: 42,
  timestampMs: Date.UTC(2026, 0, 1),
  consensusHeight: 0,
  loadPermille: 250,
  gpu: true,
};

describe('heartbeats', () => {
  it('sign and verify round trip', () => {
    const bytes = signHeartbeat(fields, signer);
    const result = verifyHeartbeat(bytes, keys);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.heartbeat).toMatchObject(fields);
      expect(Buffer.from(result.heartbeat.senderPublicKey)).toEqual(Buffer.from(signer.publicKey));
    }
    expect(bytes.length).toBeLessThan(160);
  });

  it('refuses a forged signature, a non-canonical body and garbage, never throwing', () => {
    const bytes = signHeartbeat(fields, signer);
    const forged = new Uint8Array(bytes);
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
    expect(verifyHeartbeat(forged, keys)).toMatchObject({ ok: false, invalid: true, reason: /signature/ });

    // An explicit default (consensus_height = 0 written out), properly signed: still refused.
    const { body } = splitEnvelope(bytes);
    const padded = new Uint8Array(Buffer.concat([body, Buffer.from([0x28, 0x00])]));
    const resigned = joinEnvelope(padded, signer.sign(domainDigest('bizra/heartbeat/v1', padded)));
    expect(verifyHeartbeat(resigned, keys)).toMatchObject({ ok: false, reason: /canonical/ });

    for (const junk of [new Uint8Array(0), new Uint8Array([0xff, 0xff, 0xff]), new Uint8Array(600)]) {
      expect(verifyHeartbeat(junk, keys).ok).toBe(false);
    }
  });

  it('refuses fields out of range when signing and when verifying', () => {
    expect(() => signHeartbeat({ ...fields, sequence: 0 }, signer)).toThrow(/sequence/);
    const body = new Uint8Array(
      HeartbeatBodyType.encode({ senderPublicKey: signer.publicKey, sequence: 1, timestampMs: 1 }).finish(),
    );
    const noIncarnation = joinEnvelope(body, signer.sign(domainDigest('bizra/heartbeat/v1', body)));
    expect(verifyHeartbeat(noIncarnation, keys)).toMatchObject({ ok: false, reason: /incarnation/ });
  });

  it('a PCI signature over the same bytes is not a heartbeat signature (domain separation)', () => {
    const bytes = signHeartbeat(fields, signer);
    const { body } = splitEnvelope(bytes);
    const crossSigned = joinEnvelope(body, signer.sign(domainDigest('bizra/pci/v1', body)));
    expect(verifyHeartbeat(crossSigned, keys)).toMatchObject({ ok: false, reason: /signature/ });
  });
});

/**
 * The oracle for the single-pass reader: protobufjs decodes leniently, the fields are
 * range-checked and re-encoded, and the bytes are canonical iff they come back equal.
 */
function oracleAccepts(bytes: Uint8Array): boolean {
  try {
    const parts = splitEnvelope(bytes);
    if (parts.signature.length !== 64) return false;
    const o = HeartbeatBodyType.toObject(HeartbeatBodyType.decode(parts.body), { longs: Number, defaults: true });
    const f = {
      senderPublicKey: new Uint8Array(o['senderPublicKey'] ?? []),
      incarnation: Number(o['incarnation']),
      sequence: Number(o['sequence']),
      timestampMs: Number(o['timestampMs']),
      consensusHeight: Number(o['consensusHeight']),
      loadPermille: Number(o['loadPermille']),
      gpu: o['gpu'] === true,
    };
    if (checkHeartbeatFields(f) !== null) return false;
    return Buffer.compare(encodeHeartbeatBody(f), parts.body) === 0;
  } catch {
    return false;
  }
}

describe('readSignedHeartbeat (the strict single-pass reader)', () => {
  it('reads back every field signHeartbeat wrote, as views into the bytes', () => {
    fc.assert(
      fc.property(
        fc.record({
          incarnation: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          sequence: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          timestampMs: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          consensusHeight: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          loadPermille: fc.integer({ min: 0, max: 0xffff_ffff }),
          gpu: fc.boolean(),
        }),
        (f) => {
          const bytes = signHeartbeat(f, signer);
          const parsed = readSignedHeartbeat(bytes);
          expect(parsed).not.toBeNull();
          expect(parsed?.heartbeat).toMatchObject(f);
          expect(parsed?.signature.buffer).toBe(bytes.buffer);
          expect(heartbeatSignatureValid(parsed as NonNullable<typeof parsed>, keys)).toBe(true);
        },
      ),
      { numRuns: 500, seed: 11 },
    );
  });

  it('accepts exactly what the protobufjs oracle calls canonical, over mutated heartbeats', () => {
    const base = [signHeartbeat(fields, signer), signHeartbeat({ ...fields, consensusHeight: 9, gpu: false }, signer)];
    fc.assert(
      fc.property(
        fc.constantFrom(...base),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: -3, max: 3 }),
        (original, edits, resize) => {
          let bytes = new Uint8Array(original);
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          if (resize > 0) bytes = new Uint8Array([...bytes, ...new Array(resize).fill(0x08)]);
          if (resize < 0) bytes = bytes.subarray(0, bytes.length + resize);
          expect(readSignedHeartbeat(bytes) !== null).toBe(oracleAccepts(bytes));
        },
      ),
      { numRuns: 20_000, seed: 5 },
    );
  });
});

describe('HeartbeatBatch frames', () => {
  it('round-trips entries as views, and an empty batch is zero bytes', () => {
    const entries = [signHeartbeat(fields, signer), signHeartbeat({ ...fields, sequence: 43 }, signer)];
    const frame = encodeHeartbeatBatch(entries);
    const back = decodeHeartbeatBatch(frame);
    expect(Array.isArray(back)).toBe(true);
    expect((back as Uint8Array[]).map((e) => Buffer.from(e))).toEqual(entries.map((e) => Buffer.from(e)));
    expect(encodeHeartbeatBatch([]).length).toBe(0);
    expect(decodeHeartbeatBatch(new Uint8Array(0))).toEqual([]);
  });

  it('refuses other fields, padded or oversized lengths and cut-short entries, naming the problem', () => {
    const entry = signHeartbeat(fields, signer);
    const frame = encodeHeartbeatBatch([entry]);
    expect(decodeHeartbeatBatch(new Uint8Array([0x12, 0x00]))).toMatch(/expected field 1/);
    expect(decodeHeartbeatBatch(frame.subarray(0, frame.length - 1))).toMatch(/remain/);
    expect(decodeHeartbeatBatch(new Uint8Array([0x0a, 0x80, 0x00]))).toMatch(/bad or oversized/);
    expect(decodeHeartbeatBatch(new Uint8Array([0x0a, 0x81, 0x04]))).toMatch(/bad or oversized/);
  });

  it('matches protobufjs on the wire', () => {
    const entries = [signHeartbeat(fields, signer), signHeartbeat({ ...fields, sequence: 44 }, signer)];
    const viaProtobuf = HeartbeatBatchType.encode({
      heartbeats: entries.map((e) => {
        const { body, signature } = splitEnvelope(e);
        return { body: HeartbeatBodyType.decode(body), signature };
      }),
    }).finish();
    expect(Buffer.from(encodeHeartbeatBatch(entries))).toEqual(Buffer.from(viaProtobuf));
  });
});
