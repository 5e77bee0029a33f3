/**
 * Signature checks for PBFT messages, with two caches that pay off when one process
 * holds many replicas (the simulator, an in-process testnet) or one message is looked
 * at many times (a VIEW-CHANGE re-checked inside every NEW-VIEW):
 * - the signed digest of each message object (kept on the object under this verifier's
 *   own symbol, object-slot.ts: the object is never mutated, see types.ts), and of each
 *   batch array;
 * - valid (public key, digest, signature) triples, bounded, oldest dropped first, found
 *   by 30 bits of their signature (slotOf) and then compared byte for byte on signature,
 *   digest and key, so a hit is exactly as strict as verifying again. (Not keyed by a
 *   string of the triple or of the signature: building and hashing one for every check
 *   showed in the profiles of a saturated validator.) Only valid results are kept, so forged
 *   signatures never fill it. The digest and key kept may be views into a received
 *   frame, which stays in memory while its entries do (the cache is bounded).
 * One verifier may be shared by every replica of a process: it holds no per-replica state.
 */
import { Ed25519Verifier } from '../crypto/ed25519.ts';
import { OldestFirst } from '../oldest-first.ts';
import { ObjectSlot } from './object-slot.ts';
import { batchDigest, signedDigest } from './sign.ts';
import type { PbftRequest, PbftSignedMessage } from './types.ts';

export interface PbftVerifierOptions {
  /** Valid signatures remembered; 0 remembers none. */
  validCacheSize: number;
}

export const defaultPbftVerifierOptions: Readonly<PbftVerifierOptions> = Object.freeze({ validCacheSize: 65_536 });

/**
 * The cache's key for a signature: 30 bits of it (its R's first bytes), a small integer
 * the Map hashes at once. A string of all 64 bytes (latin1) cost an allocation and a
 * 64-character hash per check at saturation. Signatures that share the 30 bits share a
 * slot: a hit is still compared byte for byte (signature, digest and key), so they only
 * push each other out.
 */
const slotOf = (sig: Uint8Array): number => sig[0]! | (sig[1]! << 8) | (sig[2]! << 16) | ((sig[3]! & 0x3f) << 24);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether `c` is the entry of exactly this (signature, digest, key). The same arrays are
 * the same bytes (arrays here are never written after they are made, see types.ts): the
 * common hit, a replica checking the request object whose signature the service checked
 * ahead a moment before, skips the 128-byte compare.
 */
function isEntryOf(c: Checked, signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  return (
    (c.signature === signature || sameBytes(c.signature, signature)) &&
    (c.digest === digest || sameBytes(c.digest, digest)) &&
    (c.publicKey === publicKey || sameBytes(c.publicKey, publicKey))
  );
}

/** A valid signature and what it was checked against. */
interface Checked {
  readonly signature: Uint8Array;
  readonly digest: Uint8Array;
  readonly publicKey: Uint8Array;
}

export class PbftVerifier {
  readonly #ed = new Ed25519Verifier();
  readonly #digests = new ObjectSlot<object, Uint8Array>('bizra.pbft.signedDigest');
  /** Valid signatures by slotOf(signature), with what they were checked against. */
  readonly #valid = new Map<number, Checked>();
  readonly #oldest = new OldestFirst(this.#valid);
  readonly #max: number;
  /** Signature checks that ran Ed25519 (cache misses), for benchmarks and tests. */
  verifications = 0;

  constructor(opts: Partial<PbftVerifierOptions> = {}) {
    const max = opts.validCacheSize ?? defaultPbftVerifierOptions.validCacheSize;
    if (!Number.isSafeInteger(max) || max < 0)
      throw new RangeError(`validCacheSize must be an integer >= 0, got ${max}`);
    this.#max = max;
  }

  /** The signed digest of `m`, computed once per object. */
  digest(m: PbftSignedMessage): Uint8Array {
    let d = this.#digests.get(m);
    if (d === undefined) {
      d = signedDigest(m);
      this.#digests.set(m, d);
    }
    return d;
  }

  /** The batch digest of `batch`, computed once per array. */
  batchDigest(batch: readonly PbftRequest[]): Uint8Array {
    let d = this.#digests.get(batch);
    if (d === undefined) {
      d = batchDigest(batch);
      this.#digests.set(batch, d);
    }
    return d;
  }

  /**
   * The Ed25519 check that verify(m, publicKey) would run, for a caller that runs it
   * elsewhere (a worker pool) and then calls remember(); null when there is nothing to
   * run ahead: already known valid, malformed (verify refuses it at once), or no cache
   * to remember a result in. Never throws.
   */
  pendingCheck(
    m: PbftSignedMessage,
    publicKey: Uint8Array,
  ): { publicKey: Uint8Array; digest: Uint8Array; signature: Uint8Array } | null {
    if (this.#max === 0) return null;
    if (!(m.signature instanceof Uint8Array) || m.signature.length !== 64 || publicKey.length !== 32) return null;
    let digest: Uint8Array;
    try {
      digest = this.digest(m);
    } catch {
      return null;
    }
    if (this.#known(m.signature, digest, publicKey)) return null;
    return { publicKey, digest, signature: m.signature };
  }

  /**
   * Records that `m.signature` is `publicKey`'s valid signature of `m`, so verify()
   * answers from the cache. Only for the result of a full Ed25519 check of exactly the
   * triple pendingCheck() returned (a SignaturePool's answer).
   */
  remember(m: PbftSignedMessage, publicKey: Uint8Array): void {
    if (this.#max === 0) return;
    const digest = this.digest(m);
    if (!this.#known(m.signature, digest, publicKey)) {
      this.#add(m.signature, digest, publicKey, this.#valid.has(slotOf(m.signature)));
    }
  }

  #known(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
    const c = this.#valid.get(slotOf(signature));
    return c !== undefined && isEntryOf(c, signature, digest, publicKey);
  }

  /** Remembers a valid triple; `held`: its slot holds another triple. */
  #add(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array, held: boolean): void {
    const slot = slotOf(signature);
    // One entry per slot: another triple in the same slot replaces it (as the newest).
    if (held) this.#valid.delete(slot);
    else if (this.#valid.size >= this.#max) this.#oldest.deleteOldest();
    this.#valid.set(slot, { signature, digest, publicKey });
  }

  /** False when no valid signature is remembered (validCacheSize 0): a check run ahead would be lost. */
  get remembers(): boolean {
    return this.#max > 0;
  }

  /** True only if `m.signature` is `publicKey`'s valid signature of `m`. Never throws. */
  verify(m: PbftSignedMessage, publicKey: Uint8Array): boolean {
    if (!(m.signature instanceof Uint8Array) || m.signature.length !== 64 || publicKey.length !== 32) return false;
    let digest: Uint8Array;
    try {
      digest = this.digest(m);
    } catch {
      return false;
    }
    if (this.#max === 0) {
      this.verifications++;
      return this.#ed.verify(publicKey, digest, m.signature);
    }
    const held = this.#valid.get(slotOf(m.signature));
    if (held !== undefined && isEntryOf(held, m.signature, digest, publicKey)) return true;
    this.verifications++;
    const ok = this.#ed.verify(publicKey, digest, m.signature);
    if (ok) this.#add(m.signature, digest, publicKey, held !== undefined);
    return ok;
  }
}
