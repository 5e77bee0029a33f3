import { describe, expect, it } from 'vitest';
import { joinEnvelope, splitEnvelope } from '../codec/envelope-wire.ts';
import { HeartbeatBodyType } from '../codec/schema.ts';
import { domainDigest } from '../crypto/blake3.ts';
import { Ed25519Signer, Ed25519Verifier } from '../crypto/ed25519.ts';
import { signHeartbeat, verifyHeartbeat } from '../membership/heartbeat.ts';

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
