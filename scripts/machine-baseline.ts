/**
 * This machine's speed, measured in the same run as a benchmark, so that figures taken on
 * different machines (or the same one on a busier day) can be compared: the hosts these
 * benchmarks run on have differed by 2x in raw Ed25519 verify rate.
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';

/** Raw single-core Ed25519 verifications per second (node:crypto, a prepared key object). */
export function rawVerifyRate(seconds = 1): number {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = createPublicKey({ key: publicKey.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' });
  const msg = Buffer.alloc(32, 7);
  const sig = sign(null, msg, privateKey);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 100; i++) verify(null, msg, key, sig);
    n += 100;
  }
  return n / ((performance.now() - t0) / 1000);
}
