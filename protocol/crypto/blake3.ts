/**
 * BLAKE3 (32-byte output) through hash-wasm, the fastest of the packages that install
 * here for many small inputs (ARCHITECTURE.md: ~2.7 M hashes/s of 128 B, ~500 MB/s).
 *
 * hash-wasm only hands out a hasher asynchronously (it compiles WebAssembly), so this
 * module awaits one at top level and then hashes synchronously: verification stays a
 * plain function call. That hasher is the module's only state, initialised once; it
 * is safe because JavaScript never interleaves the synchronous init/update/digest
 * sequence, and each worker thread loads its own copy of this module (and of the
 * WebAssembly instance). A consequence of the top-level await: this module, and any
 * module importing it, must be loaded with `import`, not `require()`.
 */
import { createBLAKE3 } from 'hash-wasm';
import { DOMAINS, type DomainTag } from './domains.ts';

export const BLAKE3_BYTES = 32;

const hasher = await createBLAKE3(256);

/** utf8(tag) || 0x00 for every registered tag, encoded once (never mutated). */
const PREFIXES: ReadonlyMap<DomainTag, Uint8Array> = new Map(
  Object.values(DOMAINS).map((tag) => [tag, Buffer.from(`${tag}\0`, 'utf8')]),
);

/**
 * Small inputs (a request body, a vote, a reply leaf: tens to hundreds of bytes, hashed
 * several times per request at saturation) are hashed from one scratch buffer holding
 * tag and bytes together, through a view of it kept per length. hash-wasm makes two
 * views for every update() call, so one update of a kept view allocates two objects
 * where update(prefix).update(bytes) allocated four (plus the result either way).
 * Larger inputs (a batch) are not copied.
 */
const SCRATCH_BYTES = 4096;
const scratch = new Uint8Array(SCRATCH_BYTES);
const scratchViews: (Uint8Array | undefined)[] = [];

/** BLAKE3-256 of `bytes` (a fresh array). */
export function blake3(bytes: Uint8Array): Uint8Array {
  return hasher.init().update(bytes).digest('binary');
}

/**
 * BLAKE3(utf8(tag) || 0x00 || bytes): what every signature and protocol hash covers.
 * The tag is typed against the table in domains.ts, so an unregistered tag does not
 * compile.
 */
export function domainDigest(tag: DomainTag, bytes: Uint8Array): Uint8Array {
  return domainDigestOfPair(tag, bytes, EMPTY);
}

/**
 * BLAKE3(utf8(tag) || 0x00 || first || second): domainDigest of the two concatenated,
 * without making the concatenation (a Merkle node over its two children, say).
 */
export function domainDigestOfPair(tag: DomainTag, first: Uint8Array, second: Uint8Array): Uint8Array {
  const prefix = PREFIXES.get(tag);
  if (prefix === undefined) throw new TypeError(`unregistered domain tag ${JSON.stringify(tag)}`);
  const total = prefix.length + first.length + second.length;
  if (total > SCRATCH_BYTES) {
    const h = hasher.init().update(prefix).update(first);
    return (second.length > 0 ? h.update(second) : h).digest('binary');
  }
  scratch.set(prefix, 0);
  scratch.set(first, prefix.length);
  scratch.set(second, prefix.length + first.length);
  let input = scratchViews[total];
  if (input === undefined) {
    input = scratch.subarray(0, total);
    scratchViews[total] = input;
  }
  return hasher.init().update(input).digest('binary');
}

const EMPTY = new Uint8Array(0);
