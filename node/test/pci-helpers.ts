import { randomBytes } from 'node:crypto';
import { signEnvelope, type UnsignedEnvelopeFields } from '../../protocol/pci/index.ts';

/** A fresh valid envelope (random key and nonce), with some fields replaced. */
export function makeEnvelope(over: Partial<UnsignedEnvelopeFields> = {}, seed: Uint8Array = randomBytes(32)) {
  return signEnvelope(
    {
      agentType: 'MODEL',
      payload: { contentType: 'application/json', data: new TextEncoder().encode('{"claim":"test"}') },
      timestampMs: Date.now(),
      ttlSeconds: 300,
      ihsanScore: 0.97,
      snrScore: 0.9,
      nonce: randomBytes(16),
      ...over,
    },
    seed,
  );
}

/** The same wire bytes with the last signature byte flipped: decodes fine, fails R002. */
export function withBadSignature(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0x01;
  return copy;
}
