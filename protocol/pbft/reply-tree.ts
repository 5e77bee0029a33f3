/**
 * The reply tree of one executed batch: a Merkle tree over the replies to its requests,
 * in execution order, whose root a replica signs once (PbftReplyRootBody, sign.ts)
 * instead of signing every REPLY; each REPLY carries its leaf's inclusion proof.
 *
 * - leaf: BLAKE3("bizra/pbft/reply-leaf/v1" || 0x00 || canonical PbftReplyLeaf);
 * - interior node: BLAKE3("bizra/pbft/reply-node/v1" || 0x00 || left || right), over the
 *   two 32-byte child hashes. The two tags differ, so a leaf's bytes can never pose as
 *   a node's (nor a node's as a leaf's);
 * - shape: each level pairs nodes (2i, 2i+1); an unpaired last node moves up unchanged
 *   (no duplicated node, so no two leaf lists share a root). The leaf count is signed
 *   with the root, so a proof's (index, count) fixes which side each sibling is on.
 *
 * Pure, over hashes: the leaf's bytes are encoded by codec.ts (`encodeReplyLeaf`).
 */
import { domainDigest, domainDigestOfPair } from '../crypto/blake3.ts';
import { DOMAINS } from '../crypto/domains.ts';

export const REPLY_HASH_BYTES = 32;
/** Most leaves a tree has: the count is signed as a uint32. */
export const MAX_REPLY_COUNT = 0xffff_ffff;
/** Most siblings a proof has: ceil(log2(MAX_REPLY_COUNT)). */
export const MAX_REPLY_PROOF_SIBLINGS = 32;

/** A tree's levels, leaf hashes first, the root's level (one hash) last. */
export type ReplyTree = readonly (readonly Uint8Array[])[];

/** The leaf hash of canonical PbftReplyLeaf bytes. */
export function replyLeafHash(leafBytes: Uint8Array): Uint8Array {
  return domainDigest(DOMAINS.PBFT_REPLY_LEAF, leafBytes);
}

/** The hash of an interior node with children `left` and `right` (32 bytes each). */
export function replyNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return domainDigestOfPair(DOMAINS.PBFT_REPLY_NODE, left, right);
}

/** Every level of the tree over `leaves` (leaf hashes, at least one), built once per batch. */
export function buildReplyTree(leaves: readonly Uint8Array[]): ReplyTree {
  if (leaves.length === 0 || leaves.length > MAX_REPLY_COUNT) {
    throw new RangeError(`a reply tree has 1 to ${MAX_REPLY_COUNT} leaves, not ${leaves.length}`);
  }
  const levels: (readonly Uint8Array[])[] = [leaves];
  let level = leaves;
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) up.push(replyNodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) up.push(level[level.length - 1]!);
    levels.push(up);
    level = up;
  }
  return levels;
}

export function replyTreeRoot(tree: ReplyTree): Uint8Array {
  return tree[tree.length - 1]![0]!;
}

/** The siblings of leaf `index`, from the leaf's level up to the root's. */
export function replyTreeProof(tree: ReplyTree, index: number): Uint8Array[] {
  const count = tree[0]!.length;
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`leaf ${index} is not one of the tree's ${count}`);
  }
  const siblings: Uint8Array[] = [];
  let i = index;
  for (let l = 0; l + 1 < tree.length; l++) {
    const level = tree[l]!;
    if (i % 2 === 1) siblings.push(level[i - 1]!);
    else if (i + 1 < level.length) siblings.push(level[i + 1]!);
    i = Math.floor(i / 2);
  }
  return siblings;
}

/** Whether leaf `index` of `count` is a position in some tree. */
function isPosition(index: number, count: number): boolean {
  return (
    Number.isSafeInteger(count) &&
    count >= 1 &&
    count <= MAX_REPLY_COUNT &&
    Number.isSafeInteger(index) &&
    index >= 0 &&
    index < count
  );
}

/**
 * How many siblings the proof of leaf `index` of `count` has (fewer than ceil(log2(count))
 * where a node moves up unpaired); null when `index` is not a leaf of such a tree.
 */
export function replyProofLength(index: number, count: number): number | null {
  if (!isPosition(index, count)) return null;
  let n = 0;
  for (let i = index, width = count; width > 1; i = Math.floor(i / 2), width = Math.ceil(width / 2)) {
    if (i % 2 === 1 || i + 1 < width) n++;
  }
  return n;
}

const isHash = (b: unknown): b is Uint8Array => b instanceof Uint8Array && b.length === REPLY_HASH_BYTES;

/**
 * The root that `leaf` (a leaf hash) at `index` of `count` folds to with `siblings`; null
 * when that is no position in a tree, when the number of siblings is not exactly the one
 * (index, count) needs, or when a hash is not 32 bytes. Whether the root is the signed
 * one is the signature's check.
 */
export function rootFromProof(
  leaf: Uint8Array,
  index: number,
  count: number,
  siblings: readonly Uint8Array[],
): Uint8Array | null {
  if (!isHash(leaf) || replyProofLength(index, count) !== siblings.length || !siblings.every(isHash)) return null;
  let hash = leaf;
  let k = 0;
  for (let i = index, width = count; width > 1; i = Math.floor(i / 2), width = Math.ceil(width / 2)) {
    if (i % 2 === 1) hash = replyNodeHash(siblings[k++]!, hash);
    else if (i + 1 < width) hash = replyNodeHash(hash, siblings[k++]!);
  }
  return hash;
}
