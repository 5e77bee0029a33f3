/**
 * The reply tree of an executed batch (protocol/pbft/reply-tree.ts) and the one signature
 * over its root (signReplies in protocol/pbft/sign.ts): every leaf folds to the root and
 * nothing else does, leaves and nodes are hashed under different tags, the shape is
 * pinned by a fixed vector, and a verifier checks a batch's signature once without ever
 * accepting a reply whose own leaf and proof do not name the signed root.
 */
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { describe, expect, it } from 'vitest';
import { Ed25519Signer } from '../crypto/ed25519.ts';
import { encodeReplyLeaf } from '../pbft/codec.ts';
import {
  buildReplyTree,
  MAX_REPLY_COUNT,
  replyLeafHash,
  replyNodeHash,
  replyProofLength,
  replyTreeProof,
  replyTreeRoot,
  rootFromProof,
} from '../pbft/reply-tree.ts';
import { replyLeafDigest, replyRootDigest, replyRootOf, signedDigest, signPbft, signReplies } from '../pbft/sign.ts';
import type { PbftReply, PbftReplyLeaf } from '../pbft/types.ts';
import { PbftVerifier } from '../pbft/verifier.ts';
import { hex } from './helpers.ts';

/** Distinct 32-byte stand-ins for leaf hashes. */
const leaves = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => replyLeafHash(Uint8Array.of(i)));

const tagged = (tag: string, bytes: Uint8Array): Uint8Array =>
  nobleBlake3(Buffer.concat([Buffer.from(tag, 'utf8'), Buffer.from([0]), bytes]));
const cat = (a: Uint8Array, b: Uint8Array): Uint8Array => Buffer.concat([a, b]);

const flipped = (b: Uint8Array): Uint8Array => {
  const c = Uint8Array.from(b);
  c[0]! ^= 1;
  return c;
};

describe('reply tree', () => {
  it('hashes leaves and nodes as BLAKE3 under their own tags (checked against @noble/hashes)', () => {
    const [a, b] = leaves(2) as [Uint8Array, Uint8Array];
    expect(hex(replyLeafHash(Uint8Array.of(7)))).toBe(hex(tagged('bizra/pbft/reply-leaf/v1', Uint8Array.of(7))));
    expect(hex(replyNodeHash(a, b))).toBe(hex(tagged('bizra/pbft/reply-node/v1', cat(a, b))));
    // The same 64 bytes as a leaf are not the node: a leaf cannot pose as a node.
    expect(hex(replyLeafHash(cat(a, b)))).not.toBe(hex(replyNodeHash(a, b)));
    // A two-leaf tree's root is not the leaf hash of its children's bytes either.
    const tree = buildReplyTree([a, b]);
    expect(rootFromProof(replyLeafHash(cat(a, b)), 0, 1, [])).not.toEqual(replyTreeRoot(tree));
  });

  it('has the shape the protocol names: pairs (2i, 2i+1), an unpaired last node moves up unchanged', () => {
    const [l0, l1, l2, l3, l4] = leaves(5) as Uint8Array[] as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    const n = replyNodeHash;
    expect(replyTreeRoot(buildReplyTree([l0]))).toEqual(l0);
    expect(replyTreeRoot(buildReplyTree([l0, l1]))).toEqual(n(l0, l1));
    expect(replyTreeRoot(buildReplyTree([l0, l1, l2]))).toEqual(n(n(l0, l1), l2));
    expect(replyTreeRoot(buildReplyTree([l0, l1, l2, l3]))).toEqual(n(n(l0, l1), n(l2, l3)));
    expect(replyTreeRoot(buildReplyTree([l0, l1, l2, l3, l4]))).toEqual(n(n(n(l0, l1), n(l2, l3)), l4));
    expect(replyTreeProof(buildReplyTree([l0, l1, l2, l3, l4]), 4)).toEqual([n(n(l0, l1), n(l2, l3))]);
    expect(replyTreeProof(buildReplyTree([l0, l1, l2]), 1)).toEqual([l0, l2]);
    expect(() => buildReplyTree([])).toThrow(/1 to/);
  });

  it('folds every leaf of trees of 1 to 20 leaves to the root, with proofs no longer than ceil(log2 n)', () => {
    for (let count = 1; count <= 20; count++) {
      const ls = leaves(count);
      const tree = buildReplyTree(ls);
      const root = replyTreeRoot(tree);
      for (let index = 0; index < count; index++) {
        const proof = replyTreeProof(tree, index);
        expect(proof.length, `${index} of ${count}`).toBe(replyProofLength(index, count));
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(count)));
        expect(rootFromProof(ls[index]!, index, count, proof), `${index} of ${count}`).toEqual(root);
        // Another leaf at this position does not fold to the root.
        if (count > 1) expect(rootFromProof(ls[(index + 1) % count]!, index, count, proof)).not.toEqual(root);
      }
      if (Number.isInteger(Math.log2(count))) {
        for (let i = 0; i < count; i++) expect(replyProofLength(i, count)).toBe(Math.log2(count));
      }
    }
  });

  it('refuses a wrong sibling, index or count, and an extra or missing sibling', () => {
    for (let count = 2; count <= 20; count++) {
      const ls = leaves(count);
      const tree = buildReplyTree(ls);
      const root = replyTreeRoot(tree);
      for (let index = 0; index < count; index++) {
        const proof = replyTreeProof(tree, index);
        const leaf = ls[index]!;
        const signed = { view: 1, replica: 0, count, root };
        const digest = replyRootDigest(signed);
        const notRoot = (r: Uint8Array | null) => expect(r === null ? null : hex(r)).not.toBe(hex(root));
        for (let k = 0; k < proof.length; k++) {
          notRoot(
            rootFromProof(
              leaf,
              index,
              count,
              proof.map((s, j) => (j === k ? flipped(s) : s)),
            ),
          );
        }
        for (let other = 0; other < count; other++) {
          if (other !== index) notRoot(rootFromProof(leaf, other, count, proof));
        }
        // Another count may fold to the same root (the first 2^k leaves of a larger tree
        // have the same proofs), which is why the count is signed with the root.
        for (let c = 1; c <= 21; c++) {
          if (c === count) continue;
          const other = rootFromProof(leaf, index, c, proof);
          if (other !== null) expect(replyRootDigest({ ...signed, count: c, root: other })).not.toEqual(digest);
        }
        expect(rootFromProof(leaf, index, count, [...proof, ls[0]!])).toBeNull();
        if (proof.length > 0) expect(rootFromProof(leaf, index, count, proof.slice(1))).toBeNull();
        expect(rootFromProof(leaf, count, count, proof)).toBeNull();
      }
    }
    const one = leaves(1)[0]!;
    expect(rootFromProof(one, 0, 1, [])).toEqual(one);
    expect(rootFromProof(one, 0, 0, [])).toBeNull();
    expect(rootFromProof(one, -1, 1, [])).toBeNull();
    expect(rootFromProof(one, 0.5, 2, [one])).toBeNull();
    expect(rootFromProof(one, 0, 2, [one.subarray(1)])).toBeNull();
    expect(rootFromProof(one.subarray(1), 0, 1, [])).toBeNull();
    expect(replyProofLength(0, MAX_REPLY_COUNT)).toBe(32);
    expect(replyProofLength(0, MAX_REPLY_COUNT + 1)).toBeNull();
  });

  it('pins the root of three fixed replies (the shape and the leaf encoding cannot change silently)', () => {
    const client = new Uint8Array(32).fill(0xc1);
    const fixed: PbftReplyLeaf[] = [
      { client, timestamp: 1, result: new TextEncoder().encode('{"ok":true,"previous":null}') },
      { client: new Uint8Array(32).fill(0xc2), timestamp: 1767225600000, result: new Uint8Array() },
      { client, timestamp: 2, result: Uint8Array.of(0, 1, 2, 3) },
    ];
    // Canonical PbftReplyLeaf: client (field 1), timestamp (2, varint), result (3, left out when empty).
    // The root was also computed apart from this code: leaf bytes by hand, @noble/hashes BLAKE3.
    expect(hex(encodeReplyLeaf(fixed[1]!))).toBe(`0a20${'c2'.repeat(32)}1080d0eab6b733`);
    const tree = buildReplyTree(fixed.map(replyLeafDigest));
    expect(hex(replyTreeRoot(tree))).toBe('ed2b0db798642033bb2a4b484ff5681b19cf8fd476fe78b095ed9d20164f6715');
  });
});

describe('replies signed once per batch', () => {
  const replica = Ed25519Signer.fromSeed(new Uint8Array(32).fill(3));
  const clients = Array.from({ length: 5 }, (_, i) => Ed25519Signer.fromSeed(new Uint8Array(32).fill(40 + i)));
  const batch: PbftReplyLeaf[] = clients.map((c, i) => ({
    client: c.publicKey,
    timestamp: 10 + i,
    result: Uint8Array.of(i),
  }));

  it('signs k replies with one signature, and a verifier checks it once', () => {
    let signatures = 0;
    const counting = Object.assign(Object.create(replica) as Ed25519Signer, {
      sign: (m: Uint8Array) => {
        signatures++;
        return replica.sign(m);
      },
    });
    const replies = signReplies(batch, 4, 2, counting);
    expect(signatures).toBe(1);
    expect(replies.map((r) => r.proof.index)).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(replies.map((r) => hex(r.signature))).size).toBe(1);
    expect(new Set(replies.map((r) => hex(signedDigest(r)))).size).toBe(1);
    const verifier = new PbftVerifier();
    for (const r of replies) {
      expect(r).toMatchObject({ type: 'reply', view: 4, replica: 2, proof: { count: 5 } });
      expect(verifier.verify(r, replica.publicKey)).toBe(true);
    }
    expect(verifier.verifications).toBe(1);
    // A single reply signed alone is a tree of one and verifies the same way.
    const alone = signReplies([batch[0]!], 5, 2, replica)[0]!;
    expect(alone.proof).toEqual({ index: 0, count: 1, siblings: [] });
    expect(replyRootOf(alone).root).toEqual(replyLeafDigest(batch[0]!));
    expect(verifier.verify(alone, replica.publicKey)).toBe(true);
  });

  it('refuses, even from a warm cache, a reply whose own leaf or proof does not name the signed root', () => {
    const replies = signReplies(batch, 4, 2, replica);
    const verifier = new PbftVerifier();
    for (const r of replies) expect(verifier.verify(r, replica.publicKey)).toBe(true);
    const r = replies[2]!;
    const bad: [string, PbftReply][] = [
      ['result', { ...r, result: Uint8Array.of(9) }],
      ['timestamp', { ...r, timestamp: r.timestamp + 1 }],
      ['client', { ...r, client: clients[0]!.publicKey }],
      ['view', { ...r, view: 5 }],
      ['replica', { ...r, replica: 1 }],
      ['index', { ...r, proof: { ...r.proof, index: 3 } }],
      ['count', { ...r, proof: { ...r.proof, count: 6 } }],
      ['sibling', { ...r, proof: { ...r.proof, siblings: r.proof.siblings.map((s, i) => (i ? s : flipped(s))) } }],
      ['missing sibling', { ...r, proof: { ...r.proof, siblings: r.proof.siblings.slice(1) } }],
      ['extra sibling', { ...r, proof: { ...r.proof, siblings: [...r.proof.siblings, r.proof.siblings[0]!] } }],
      ['index out of range', { ...r, proof: { ...r.proof, index: 5 } }],
      ["another reply's proof", { ...r, proof: replies[1]!.proof }],
    ];
    const before = verifier.verifications;
    for (const [what, m] of bad) expect(verifier.verify(m, replica.publicKey), what).toBe(false);
    // Proofs that cannot fold fail before Ed25519; the rest name another root and run it.
    expect(verifier.verifications - before).toBeLessThan(bad.length);
    expect(() => signedDigest(bad[10]![1])).toThrow(/does not fold/);
    expect(verifier.pendingCheck(bad[10]![1], replica.publicKey)).toBeNull();
    expect(verifier.verify(r, clients[0]!.publicKey)).toBe(false);
  });

  it('a replica re-signing a changed result (a lie) signs another root; the original proof stays valid for it', () => {
    const [r] = signReplies(batch, 4, 2, replica);
    const { signature: _s, ...rest } = r!;
    const lie = signPbft<PbftReply>({ ...rest, result: Uint8Array.of(7) }, replica);
    const verifier = new PbftVerifier();
    expect(verifier.verify(lie, replica.publicKey)).toBe(true);
    expect(hex(lie.signature)).not.toBe(hex(r!.signature));
    expect(verifier.verify({ ...r!, signature: lie.signature }, replica.publicKey)).toBe(false);
  });
});
