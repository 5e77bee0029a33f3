/**
 * Ed25519 (RFC 8032, pure: the message is signed as is) on node:crypto, which is
 * OpenSSL: about 13x faster than a JavaScript implementation (ARCHITECTURE.md). Keys
 * travel as raw bytes (32-byte seed, 32-byte public key, 64-byte signature), the form
 * @noble/curves and libp2p use; node:crypto wants KeyObjects, built here from fixed
 * DER prefixes, which is cheaper than a JWK round trip.
 *
 * Every node must agree on which signatures are valid, so every node verifies with the
 * same OpenSSL rules (they refuse a non-canonical S, as RFC 8032 asks); @noble/curves
 * accepts a slightly larger set by default (ZIP 215) and is used only to cross-check
 * ordinary vectors in tests.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { OldestFirst } from '../oldest-first.ts';

export const ED25519_SEED_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

// PKCS#8 PrivateKeyInfo and SubjectPublicKeyInfo headers for Ed25519 (RFC 8410), each
// followed by the 32 raw bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function checkLength(what: string, bytes: Uint8Array, expected: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== expected) {
    const got = bytes instanceof Uint8Array ? `${bytes.length} bytes` : typeof bytes;
    throw new TypeError(`${what} must be ${expected} bytes, got ${got}`);
  }
}

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  checkLength('Ed25519 seed', seed, ED25519_SEED_BYTES);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** Builds a public KeyObject; throws if OpenSSL refuses the bytes. */
function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const spki = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

/** The 32-byte public key of a 32-byte seed. */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  return rawPublicKey(createPublicKey(privateKeyFromSeed(seed)));
}

/** A signing key turned into a KeyObject once, for signers that sign many times. */
export class Ed25519Signer {
  readonly publicKey: Uint8Array;
  readonly #key: KeyObject;

  private constructor(key: KeyObject, publicKey: Uint8Array) {
    this.#key = key;
    this.publicKey = publicKey;
  }

  static fromSeed(seed: Uint8Array): Ed25519Signer {
    const key = privateKeyFromSeed(seed);
    return new Ed25519Signer(key, rawPublicKey(createPublicKey(key)));
  }

  /** The 64-byte signature of `message`. */
  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.#key));
  }
}

export interface Ed25519VerifierOptions {
  /** Public KeyObjects kept, most recently used first. Importing one costs about a third of a verify. */
  keyCacheSize: number;
  /**
   * Valid (key, message, signature) triples remembered, oldest evicted first; 0 (the
   * default) remembers none. Worth it only where the same signed bytes reach one
   * verifier many times: an in-process testnet whose nodes share one verifier would
   * otherwise check each heartbeat once per node. A hit compares all three byte
   * strings, so it is exactly as strict as verifying again.
   */
  verifiedCacheSize: number;
}

export const defaultEd25519VerifierOptions: Ed25519VerifierOptions = { keyCacheSize: 4096, verifiedCacheSize: 0 };

interface VerifiedTriple {
  publicKey: Uint8Array;
  message: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * Verifies signatures, caching the KeyObject of each public key in a bounded LRU map
 * (a Map's insertion order: a hit is moved to the end, the first entry is evicted),
 * found by a 30-bit mix of the key (keySlot) and then compared byte for byte; two keys
 * that share a slot only push each other out.
 * Keys OpenSSL refuses are cached too, as null, so junk keys cost one import each.
 * One verifier per owner (an EnvelopeVerifier, a worker): no state is shared.
 */
export class Ed25519Verifier {
  /** By keySlot(public key); a hit is compared byte for byte. */
  readonly #cache = new Map<number, CachedKey>();
  readonly #max: number;
  /** Keyed by the signature's bytes as a latin1 string (64 characters, one per byte). */
  readonly #verified = new Map<string, VerifiedTriple>();
  readonly #oldestVerified = new OldestFirst(this.#verified);
  readonly #maxVerified: number;
  #hits = 0;

  constructor(opts: Partial<Ed25519VerifierOptions> = {}) {
    const max = opts.keyCacheSize ?? defaultEd25519VerifierOptions.keyCacheSize;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`keyCacheSize must be a positive integer, got ${max}`);
    const maxVerified = opts.verifiedCacheSize ?? defaultEd25519VerifierOptions.verifiedCacheSize;
    if (!Number.isInteger(maxVerified) || maxVerified < 0) {
      throw new RangeError(`verifiedCacheSize must be a non-negative integer, got ${maxVerified}`);
    }
    this.#max = max;
    this.#maxVerified = maxVerified;
  }

  /** Verifications answered from the verified-signature cache (for tests and benchmarks). */
  get verifiedHits(): number {
    return this.#hits;
  }

  /** Keys currently cached (for tests and metrics). */
  get cachedKeys(): number {
    return this.#cache.size;
  }

  /**
   * True only for a valid signature of `message` by `publicKey`. Never throws: wrong
   * lengths, keys that are not curve points and bad signatures all give false.
   */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
    const id = this.#maxVerified > 0 ? Buffer.from(signature.buffer, signature.byteOffset, 64).toString('latin1') : '';
    if (this.#maxVerified > 0) {
      const seen = this.#verified.get(id);
      if (seen !== undefined && sameBytes(seen.publicKey, publicKey) && sameBytes(seen.message, message)) {
        this.#hits++;
        return true;
      }
    }
    const key = this.#key(publicKey);
    if (key === null) return false;
    let valid: boolean;
    try {
      valid = verify(null, message, key, signature);
    } catch {
      return false;
    }
    if (valid && this.#maxVerified > 0) {
      if (this.#verified.size >= this.#maxVerified) this.#oldestVerified.deleteOldest();
      this.#verified.set(id, { publicKey: new Uint8Array(publicKey), message: new Uint8Array(message) });
    }
    return valid;
  }

  #key(publicKey: Uint8Array): KeyObject | null {
    const slot = keySlot(publicKey);
    const cached = this.#cache.get(slot);
    if (cached !== undefined && sameKeyBytes(cached.bytes, publicKey)) {
      this.#cache.delete(slot);
      this.#cache.set(slot, cached);
      return cached.key;
    }
    let key: KeyObject | null;
    try {
      key = publicKeyObject(publicKey);
    } catch {
      key = null;
    }
    // Another key in the slot gives way (as the least recently used would). Otherwise the
    // least recently used goes, through a fresh iterator: this is an LRU (a hit re-inserts
    // its key), so not OldestFirst, whose kept iterator would hold every table V8 replaces
    // between two misses (oldest-first.ts). The fresh one walks the holes the hits left, at
    // most about the cache's size, and only on a miss, which imports a key anyway.
    if (cached !== undefined) this.#cache.delete(slot);
    else if (this.#cache.size >= this.#max) this.#cache.delete(this.#cache.keys().next().value as number);
    this.#cache.set(slot, { bytes: new Uint8Array(publicKey), key });
    return key;
  }
}

interface CachedKey {
  /** A copy of the public key's 32 bytes. */
  readonly bytes: Uint8Array;
  /** Null for bytes OpenSSL refuses as a key. */
  readonly key: KeyObject | null;
}

/**
 * This process's seed for keySlot: keys are chosen by whoever signs, and one who could
 * aim many keys at the slot of another's would make its every check import its key again.
 */
const SLOT_SEED = randomBytes(4).readUInt32LE(0);

/**
 * The cache's key for a 32-byte public key: a 30-bit seeded mix of all its bytes, a
 * small integer the Map hashes at once. A base64 string of the key cost an allocation
 * and a 44-character hash per verify, on every replica, for every request at saturation.
 */
export function keySlot(k: Uint8Array): number {
  let h = SLOT_SEED;
  for (let i = 0; i < ED25519_PUBLIC_KEY_BYTES; i += 4) {
    h = Math.imul(h ^ (k[i]! | (k[i + 1]! << 8) | (k[i + 2]! << 16) | (k[i + 3]! << 24)), 0x9e3779b1);
    h ^= h >>> 15;
  }
  return h >>> 2;
}

function sameKeyBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < ED25519_PUBLIC_KEY_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}
