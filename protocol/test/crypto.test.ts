import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blake3, domainDigest, domainDigestOfPair } from '../crypto/blake3.ts';
import { DOMAINS } from '../crypto/domains.ts';
import { Ed25519Signer, Ed25519Verifier, keySlot, publicKeyFromSeed } from '../crypto/ed25519.ts';
import { BLAKE3_HASH, blake3Input, RFC8032 } from './vectors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

describe('Ed25519: RFC 8032 vectors', () => {
  for (const v of RFC8032) {
    it(`${v.name}: node:crypto and @noble/curves give the published key and signature`, () => {
      const seed = unhex(v.seed);
      const msg = unhex(v.message);
      expect(hex(publicKeyFromSeed(seed))).toBe(v.publicKey);
      const signer = Ed25519Signer.fromSeed(seed);
      expect(hex(signer.publicKey)).toBe(v.publicKey);
      expect(hex(signer.sign(msg))).toBe(v.signature);
      expect(hex(ed25519.getPublicKey(seed))).toBe(v.publicKey);
      expect(hex(ed25519.sign(msg, seed))).toBe(v.signature);
      expect(new Ed25519Verifier().verify(unhex(v.publicKey), msg, unhex(v.signature))).toBe(true);
      expect(ed25519.verify(unhex(v.signature), msg, unhex(v.publicKey))).toBe(true);
    });
  }
  it('the 1023-byte message really is 1023 bytes', () => {
    expect(unhex(RFC8032[3]!.message).length).toBe(1023);
  });
});

describe('Ed25519Verifier', () => {
  const v = RFC8032[1]!;
  const pub = unhex(v.publicKey);
  const msg = unhex(v.message);
  const sig = unhex(v.signature);

  it('refuses a flipped bit anywhere, wrong lengths and non-points, without throwing', () => {
    const verifier = new Ed25519Verifier();
    for (let i = 0; i < 64 * 8; i++) {
      const bad = sig.slice();
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(verifier.verify(pub, msg, bad)).toBe(false);
    }
    expect(verifier.verify(pub, unhex('73'), sig)).toBe(false);
    expect(verifier.verify(pub.subarray(1), msg, sig)).toBe(false);
    expect(verifier.verify(pub, msg, sig.subarray(1))).toBe(false);
    // y = 2 is not on the curve: OpenSSL refuses it at import or at verify.
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    expect(verifier.verify(notAPoint, msg, sig)).toBe(false);
    expect(verifier.verify(new Uint8Array(32).fill(0xff), msg, sig)).toBe(false);
  });

  it('refuses a non-canonical S (S + L), which RFC 8032 requires and ZIP 215 would also refuse', () => {
    const L = (1n << 252n) + 27742317777372353535851937790883648493n;
    const s = BigInt(`0x${hex(sig.slice(32).reverse())}`) + L;
    const sBytes = unhex(s.toString(16).padStart(64, '0')).reverse();
    const malleated = new Uint8Array([...sig.slice(0, 32), ...sBytes]);
    expect(new Ed25519Verifier().verify(pub, msg, malleated)).toBe(false);
  });

  it('keeps at most keyCacheSize KeyObjects, evicting the least recently used', () => {
    const verifier = new Ed25519Verifier({ keyCacheSize: 3 });
    const keys = [1, 2, 3, 4].map((i) => Ed25519Signer.fromSeed(new Uint8Array(32).fill(i)));
    const m = unhex('00');
    const sigs = keys.map((k) => k.sign(m));
    for (let i = 0; i < 3; i++) expect(verifier.verify(keys[i]!.publicKey, m, sigs[i]!)).toBe(true);
    expect(verifier.cachedKeys).toBe(3);
    expect(verifier.verify(keys[0]!.publicKey, m, sigs[0]!)).toBe(true); // key 0 is now the most recent
    expect(verifier.verify(keys[3]!.publicKey, m, sigs[3]!)).toBe(true); // evicts key 1
    expect(verifier.cachedKeys).toBe(3);
    for (let i = 0; i < 4; i++) expect(verifier.verify(keys[i]!.publicKey, m, sigs[i]!)).toBe(true);
    expect(() => new Ed25519Verifier({ keyCacheSize: 0 })).toThrow(/keyCacheSize/);
  });

  it('two keys in one cache slot push each other out, and each is still checked as itself', () => {
    // A birthday search for two 32-byte strings whose 30-bit slots (seeded per process) meet.
    const seen = new Map<number, Uint8Array>();
    let pair: [Uint8Array, Uint8Array] | null = null;
    while (pair === null) {
      const k = new Uint8Array(randomBytes(32));
      const other = seen.get(keySlot(k));
      if (other !== undefined && !Buffer.from(other).equals(k)) pair = [other, k];
      else seen.set(keySlot(k), k);
    }
    const [a, b] = pair;
    expect(keySlot(a)).toBe(keySlot(b));
    const verifier = new Ed25519Verifier();
    const m = unhex('01');
    const signer = Ed25519Signer.fromSeed(new Uint8Array(32).fill(5));
    // Random bytes: not keys of any signature made here (OpenSSL may refuse them as keys).
    expect(verifier.verify(a, m, signer.sign(m))).toBe(false);
    expect(verifier.cachedKeys).toBe(1);
    expect(verifier.verify(b, m, signer.sign(m))).toBe(false);
    expect(verifier.cachedKeys).toBe(1); // b took a's slot
    expect(verifier.verify(a, m, signer.sign(m))).toBe(false);
    expect(verifier.verify(signer.publicKey, m, signer.sign(m))).toBe(true);
    expect(verifier.verify(signer.publicKey, unhex('02'), signer.sign(m))).toBe(false);
    expect(verifier.cachedKeys).toBe(2);
  });

  it('agrees with @noble/curves on random keys and messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, msg) => {
        const signer = Ed25519Signer.fromSeed(seed);
        const sig = signer.sign(msg);
        expect(hex(sig)).toBe(hex(ed25519.sign(msg, seed)));
        expect(new Ed25519Verifier().verify(signer.publicKey, msg, sig)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a seed of the wrong length', () => {
    expect(() => Ed25519Signer.fromSeed(new Uint8Array(31))).toThrow(/32 bytes, got 31/);
  });
});

describe('BLAKE3 (hash-wasm)', () => {
  for (const [n, expected] of BLAKE3_HASH) {
    it(`official vector, input_len ${n}`, () => {
      const input = blake3Input(n);
      expect(hex(blake3(input))).toBe(expected);
      expect(hex(nobleBlake3(input))).toBe(expected);
    });
  }

  it('agrees with @noble/hashes on random inputs of random lengths (0 to 40 KiB)', () => {
    // Lengths 0-99, then 200 lengths below 40,000 from a fixed-seed LCG (reproducible).
    let state = 0x2545f491;
    const nextLength = () => {
      state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
      return state % 40_000;
    };
    for (let i = 0; i < 300; i++) {
      const n = i < 100 ? i : nextLength();
      const input = randomBytes(n);
      expect(hex(blake3(input))).toBe(hex(nobleBlake3(input)));
    }
  });

  it('returns a fresh array each time (hashing again does not change an earlier result)', () => {
    const a = blake3(unhex('01'));
    const copy = hex(a);
    blake3(unhex('02'));
    expect(hex(a)).toBe(copy);
  });

  it('domainDigest is BLAKE3(utf8(tag) || 0x00 || bytes)', () => {
    const bytes = randomBytes(100);
    const expected = nobleBlake3(Buffer.concat([Buffer.from(DOMAINS.PCI_ENVELOPE, 'utf8'), Buffer.from([0]), bytes]));
    expect(hex(domainDigest(DOMAINS.PCI_ENVELOPE, bytes))).toBe(hex(expected));
    expect(hex(domainDigest(DOMAINS.PCI_ENVELOPE, bytes))).not.toBe(hex(blake3(bytes)));
    expect(() => domainDigest('bizra/unknown/v1' as never, bytes)).toThrow(/unregistered domain tag/);
    // Pinned: the digest of the empty message under the PCI tag, i.e. BLAKE3("bizra/pci/v1\0").
    expect(hex(domainDigest(DOMAINS.PCI_ENVELOPE, new Uint8Array(0)))).toBe(
      '925b97d4c2ec5a6145dfe3ddcfbf5d3eaf4187563f1ac45d65915c0a0d2393c2',
    );
  });
});

describe('domainDigest through its scratch buffer', () => {
  const reference = (tag: string, bytes: Uint8Array): string =>
    hex(nobleBlake3(Buffer.concat([Buffer.from(tag, 'utf8'), Buffer.from([0]), bytes])));

  it('agrees with @noble/hashes on every length around the 4 KiB scratch and beyond it, under two tags', () => {
    // The scratch holds tag and bytes together up to 4,096 bytes; larger inputs are hashed
    // in two updates. Lengths on both sides of the boundary for both tags (of different lengths).
    const tags = [DOMAINS.PCI_ENVELOPE, DOMAINS.PBFT_REQUEST] as const;
    const lengths = [
      0, 1, 31, 32, 33, 200, 4000, 4060, 4070, 4074, 4075, 4076, 4077, 4083, 4084, 4085, 4096, 5000, 20_000,
    ];
    for (const tag of tags) {
      for (const n of lengths) {
        const bytes = randomBytes(n);
        expect(hex(domainDigest(tag, bytes)), `${tag} ${n}`).toBe(reference(tag, bytes));
      }
    }
  });

  it('domainDigestOfPair is domainDigest of the two concatenated, in the scratch and beyond it', () => {
    for (const [a, b] of [
      [0, 0],
      [32, 32],
      [0, 100],
      [100, 0],
      [2000, 2050],
      [4000, 100],
      [30, 5000],
    ] as const) {
      const first = randomBytes(a);
      const second = randomBytes(b);
      expect(hex(domainDigestOfPair(DOMAINS.PBFT_REPLY_NODE, first, second)), `${a} + ${b}`).toBe(
        reference(DOMAINS.PBFT_REPLY_NODE, Buffer.concat([first, second])),
      );
    }
  });

  it('returns a fresh array: a later digest (of another length or tag) does not change an earlier one', () => {
    const a = domainDigest(DOMAINS.PCI_ENVELOPE, randomBytes(100));
    const copy = hex(a);
    domainDigest(DOMAINS.PBFT_REQUEST, randomBytes(100));
    domainDigest(DOMAINS.PCI_ENVELOPE, randomBytes(7));
    expect(hex(a)).toBe(copy);
  });

  it('does not change its input, even a view into a larger buffer', () => {
    const backing = randomBytes(300);
    const before = hex(backing);
    const view = backing.subarray(50, 250);
    expect(hex(domainDigest(DOMAINS.PCI_ENVELOPE, view))).toBe(reference(DOMAINS.PCI_ENVELOPE, view));
    expect(hex(backing)).toBe(before);
  });
});

describe('Ed25519Verifier verified-signature cache', () => {
  const signer = Ed25519Signer.fromSeed(new Uint8Array(32).fill(9));
  const other = Ed25519Signer.fromSeed(new Uint8Array(32).fill(10));
  const message = new TextEncoder().encode('a heartbeat');
  const signature = signer.sign(message);

  it('answers a repeat from the cache, but only for the same key, message and signature', () => {
    const v = new Ed25519Verifier({ verifiedCacheSize: 2 });
    expect(v.verify(signer.publicKey, message, signature)).toBe(true);
    expect(v.verifiedHits).toBe(0);
    expect(v.verify(signer.publicKey, message, signature)).toBe(true);
    expect(v.verifiedHits).toBe(1);
    // Same signature bytes offered for other bytes or another key: verified afresh, and false.
    expect(v.verify(signer.publicKey, new TextEncoder().encode('a heartbeaT'), signature)).toBe(false);
    expect(v.verify(other.publicKey, message, signature)).toBe(false);
    // An invalid signature is never remembered as valid.
    const bad = new Uint8Array(signature);
    bad[0] = (bad[0] as number) ^ 1;
    expect(v.verify(signer.publicKey, message, bad)).toBe(false);
    expect(v.verify(signer.publicKey, message, bad)).toBe(false);
    expect(v.verifiedHits).toBe(1);
  });

  it('evicts the oldest entry beyond its size, and refuses a bad size', () => {
    const v = new Ed25519Verifier({ verifiedCacheSize: 1 });
    const m2 = new TextEncoder().encode('another');
    expect(v.verify(signer.publicKey, message, signature)).toBe(true);
    expect(v.verify(signer.publicKey, m2, signer.sign(m2))).toBe(true);
    expect(v.verify(signer.publicKey, message, signature)).toBe(true);
    expect(v.verifiedHits).toBe(0); // the first was evicted by the second
    expect(new Ed25519Verifier().verify(signer.publicKey, message, signature)).toBe(true);
    expect(() => new Ed25519Verifier({ verifiedCacheSize: -1 })).toThrow(/verifiedCacheSize/);
  });
});
