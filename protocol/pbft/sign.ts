/**
 * Digests and signatures of PBFT messages: Ed25519 over
 * BLAKE3(domain tag || 0x00 || canonical body), one tag per kind of message, and the two
 * protocol hashes (a batch's digest, a state snapshot's digest). Pure.
 *
 * A REPLY is the exception: its signed body is the PbftReplyRootBody its proof folds it
 * to (reply-tree.ts), so one signature covers every reply of an executed batch.
 */
import { domainDigest } from '../crypto/blake3.ts';
import { DOMAINS, type DomainTag } from '../crypto/domains.ts';
import type { Ed25519Signer } from '../crypto/ed25519.ts';
import {
  encodeBatch,
  encodeCheckpointBody,
  encodeNewViewBody,
  encodeReplyLeaf,
  encodeReplyRootBody,
  encodeRequestBody,
  encodeStatusBody,
  encodeViewChangeBody,
  encodeVoteBody,
} from './codec.ts';
import { readBodyOf } from './normal-case-bytes.ts';
import { buildReplyTree, replyLeafHash, replyTreeProof, replyTreeRoot, rootFromProof } from './reply-tree.ts';
import type {
  PbftReply,
  PbftReplyLeaf,
  PbftReplyProof,
  PbftReplyRoot,
  PbftRequest,
  PbftSignedMessage,
  PbftViewChange,
  PbftViewChangeRef,
} from './types.ts';

/** The domain tag each signed kind is signed under. */
export const PBFT_SIGNATURE_DOMAINS: Readonly<Record<PbftSignedMessage['type'], DomainTag>> = Object.freeze({
  request: DOMAINS.PBFT_REQUEST,
  'pre-prepare': DOMAINS.PBFT_PRE_PREPARE,
  prepare: DOMAINS.PBFT_PREPARE,
  commit: DOMAINS.PBFT_COMMIT,
  checkpoint: DOMAINS.PBFT_CHECKPOINT,
  'view-change': DOMAINS.PBFT_VIEW_CHANGE,
  'new-view': DOMAINS.PBFT_NEW_VIEW,
  reply: DOMAINS.PBFT_REPLY_ROOT,
  status: DOMAINS.PBFT_STATUS,
});

/** Canonical bytes of the signed body of `m` (its signature field is not part of them). */
export function signedBodyBytes(m: PbftSignedMessage): Uint8Array {
  switch (m.type) {
    case 'request':
      return encodeRequestBody(m);
    case 'pre-prepare':
    case 'prepare':
    case 'commit':
      return encodeVoteBody(m);
    // Read from a frame (view-change-reader.ts): the body bytes are the frame's own.
    case 'checkpoint':
      return readBodyOf(m) ?? encodeCheckpointBody(m);
    case 'view-change':
      return readBodyOf(m) ?? encodeViewChangeBody(m);
    case 'new-view':
      return readBodyOf(m) ?? encodeNewViewBody(m);
    case 'reply':
      return encodeReplyRootBody(replyRootOf(m));
    case 'status':
      return encodeStatusBody(m);
  }
}

/** What the signature of `m` covers: BLAKE3(tag || 0x00 || body). */
export function signedDigest(m: PbftSignedMessage): Uint8Array {
  return domainDigest(PBFT_SIGNATURE_DOMAINS[m.type], signedBodyBytes(m));
}

/** How a NEW-VIEW names `vc`: its signer and the digest its signature covers. */
export function viewChangeRef(vc: PbftViewChange): PbftViewChangeRef {
  return { replica: vc.replica, digest: signedDigest(vc) };
}

/** The digest votes name for a batch (an empty batch is the null request). */
export function batchDigest(batch: readonly PbftRequest[]): Uint8Array {
  return domainDigest(DOMAINS.PBFT_BATCH, encodeBatch(batch));
}

/** The state digest a CHECKPOINT names, of canonical PbftStateSnapshot bytes. */
export function stateDigest(snapshotBytes: Uint8Array): Uint8Array {
  return domainDigest(DOMAINS.PBFT_STATE, snapshotBytes);
}

/** The leaf hash of one client's result in a reply tree. */
export function replyLeafDigest(leaf: PbftReplyLeaf): Uint8Array {
  return replyLeafHash(encodeReplyLeaf(leaf));
}

/**
 * What the signature of `r` covers: the root its leaf and proof fold to, with its view,
 * replica and leaf count. Recomputed from this reply's own fields, so a reply whose
 * result (or client, timestamp, index, sibling) was changed names another root. Throws
 * when the proof cannot fold (the verifier counts that as a bad signature).
 */
export function replyRootOf(r: PbftReply): PbftReplyRoot {
  const { index, count, siblings } = r.proof;
  const root = rootFromProof(replyLeafDigest(r), index, count, siblings);
  if (root === null) {
    throw new RangeError(`the reply proof (leaf ${index} of ${count}, ${siblings.length} siblings) does not fold`);
  }
  return { view: r.view, replica: r.replica, count, root };
}

/** The digest a replica signs for the replies of one batch. */
export function replyRootDigest(root: PbftReplyRoot): Uint8Array {
  return domainDigest(DOMAINS.PBFT_REPLY_ROOT, encodeReplyRootBody(root));
}

/**
 * The REPLYs to `leaves` (the requests of one executed batch, in execution order), under
 * one signature: a tree over their leaves whose root `signer` signs once. 2 x leaves
 * BLAKE3 hashes (about) and one Ed25519 signature, instead of one signature per reply.
 */
export function signReplies(
  leaves: readonly PbftReplyLeaf[],
  view: number,
  replica: number,
  signer: Ed25519Signer,
): PbftReply[] {
  const tree = buildReplyTree(leaves.map(replyLeafDigest));
  const count = leaves.length;
  const signature = signer.sign(replyRootDigest({ view, replica, count, root: replyTreeRoot(tree) }));
  return leaves.map((l, index) => {
    const proof: PbftReplyProof = { index, count, siblings: replyTreeProof(tree, index) };
    return {
      type: 'reply',
      view,
      timestamp: l.timestamp,
      client: l.client,
      replica,
      result: l.result,
      proof,
      signature,
    };
  });
}

const NO_SIGNATURE = new Uint8Array(0);

/** Distributes Omit over the members of a union. */
export type Unsigned<M> = M extends PbftSignedMessage ? Omit<M, 'signature'> : never;

/** Signs `unsigned` with `signer`; the caller sets `replica` (or `client`) to the signer's. */
export function signPbft<M extends PbftSignedMessage>(unsigned: Unsigned<M>, signer: Ed25519Signer): M {
  const digest = signedDigest({ ...unsigned, signature: NO_SIGNATURE } as unknown as M);
  return { ...unsigned, signature: signer.sign(digest) } as unknown as M;
}

/** A client's request, signed by the client (its public key is its id). */
export function signRequest(signer: Ed25519Signer, timestamp: number, operation: Uint8Array): PbftRequest {
  return signPbft<PbftRequest>({ type: 'request', client: signer.publicKey, timestamp, operation }, signer);
}
