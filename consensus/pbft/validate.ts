/**
 * Checks of the certificates and proofs inside PBFT messages: pure functions of the
 * message, the validator set and a verifier. Each returns null or the reason and detail
 * of the first problem, so the replica can refuse the message and change nothing.
 */
import type {
  PbftCheckpoint,
  PbftCommitCertificate,
  PbftPreparedProof,
  PbftRequest,
  PbftSignedMessage,
  PbftViewChange,
} from '../../protocol/pbft/types.ts';
import type { PbftVerifier } from '../../protocol/pbft/verifier.ts';
import type { PbftRejectReason } from './output.ts';
import { primaryOf, sameDigest } from './quorum.ts';
import type { PbftValidatorSet } from './validators.ts';

export interface Problem {
  readonly reason: PbftRejectReason;
  readonly detail: string;
}

const problem = (reason: PbftRejectReason, detail: string): Problem => ({ reason, detail });

/** The signer index is a validator and the signature is its. */
export function checkReplicaSignature(
  m: PbftSignedMessage & { replica: number },
  set: PbftValidatorSet,
  verifier: PbftVerifier,
): Problem | null {
  const key = set.keys[m.replica];
  if (key === undefined)
    return problem('unknown-replica', `replica ${m.replica} is not in the validator set of ${set.n}`);
  if (!verifier.verify(m, key))
    return problem('bad-signature', `${m.type} signature of replica ${m.replica} does not verify`);
  return null;
}

/** Every request of a batch is signed by its client. */
export function checkBatch(batch: readonly PbftRequest[], verifier: PbftVerifier): Problem | null {
  for (const r of batch) {
    if (!verifier.verify(r, r.client))
      return problem('bad-request', `request ${r.timestamp} of a client has a bad signature`);
  }
  return null;
}

/**
 * A stable checkpoint proof for `seq`: 2f + 1 CHECKPOINTs from distinct validators for
 * `seq` with one state digest (none at all for sequence 0, the genesis state). Returns
 * the state digest (an empty array at 0).
 */
export function checkCheckpointProof(
  proof: readonly PbftCheckpoint[],
  seq: number,
  set: PbftValidatorSet,
  verifier: PbftVerifier,
): Problem | Uint8Array {
  if (seq === 0)
    return proof.length === 0 ? new Uint8Array(0) : problem('bad-checkpoint-proof', 'sequence 0 needs no proof');
  if (proof.length < set.quorum) {
    return problem('bad-checkpoint-proof', `${proof.length} checkpoints; a proof needs ${set.quorum}`);
  }
  const digest = proof[0]!.stateDigest;
  const seen = new Set<number>();
  for (const c of proof) {
    if (c.seq !== seq || !sameDigest(c.stateDigest, digest)) {
      return problem('bad-checkpoint-proof', `checkpoints of the proof for ${seq} disagree`);
    }
    if (seen.has(c.replica)) return problem('bad-checkpoint-proof', `replica ${c.replica} appears twice in the proof`);
    seen.add(c.replica);
    const p = checkReplicaSignature(c, set, verifier);
    if (p !== null) return problem('bad-checkpoint-proof', p.detail);
  }
  return digest;
}

/**
 * A prepared certificate as a VIEW-CHANGE carries it: the primary's PRE-PREPARE and 2f
 * (quorum - 1) matching PREPAREs from distinct backups, the batch named by its digest.
 * The client signatures need no check here (nor the batch at all): 2f + 1 replicas
 * signed for this digest, so at least f + 1 correct ones accepted the batch and checked
 * every request; a replica that later takes the batch from a peer checks it against
 * the digest (onProposal).
 */
export function checkPreparedProof(
  c: PbftPreparedProof,
  set: PbftValidatorSet,
  verifier: PbftVerifier,
): Problem | null {
  const pp = c.prePrepare;
  const bad = (detail: string): Problem => problem('bad-prepared-certificate', `sequence ${pp.seq}: ${detail}`);
  const primary = primaryOf(pp.view, set.n);
  if (pp.replica !== primary)
    return bad(`pre-prepare from ${pp.replica}, not the primary ${primary} of view ${pp.view}`);
  const sig = checkReplicaSignature(pp, set, verifier);
  if (sig !== null) return bad(sig.detail);
  const voters = new Set<number>();
  for (const p of c.prepares) {
    if (p.view !== pp.view || p.seq !== pp.seq || !sameDigest(p.digest, pp.digest))
      return bad('a prepare does not match');
    if (p.replica === primary) return bad('a prepare is from the primary');
    if (voters.has(p.replica)) return bad(`replica ${p.replica} prepared twice`);
    voters.add(p.replica);
    const s = checkReplicaSignature(p, set, verifier);
    if (s !== null) return bad(s.detail);
  }
  if (voters.size < set.quorum - 1) return bad(`${voters.size} prepares; a certificate needs ${set.quorum - 1}`);
  return null;
}

/** A commit certificate: 2f + 1 COMMITs from distinct replicas for one (view, seq) naming the batch. */
export function checkCommitCertificate(
  c: PbftCommitCertificate,
  set: PbftValidatorSet,
  verifier: PbftVerifier,
): Problem | null {
  const bad = (detail: string): Problem => problem('bad-commit-certificate', detail);
  const first = c.commits[0];
  if (first === undefined || c.commits.length < set.quorum) {
    return bad(`${c.commits.length} commits; a certificate needs ${set.quorum}`);
  }
  const voters = new Set<number>();
  for (const v of c.commits) {
    if (v.view !== first.view || v.seq !== first.seq || !sameDigest(v.digest, first.digest))
      return bad('commits disagree');
    if (voters.has(v.replica)) return bad(`replica ${v.replica} committed twice`);
    voters.add(v.replica);
    const s = checkReplicaSignature(v, set, verifier);
    if (s !== null) return bad(s.detail);
  }
  // The client signatures need no check: 2f + 1 commits mean f + 1 correct replicas
  // prepared this batch, and each of them checked every request.
  if (!sameDigest(verifier.batchDigest(c.batch), first.digest)) {
    return problem('wrong-digest', `the batch does not match the digest the commits name`);
  }
  return null;
}

/** A VIEW-CHANGE's signature, checkpoint proof and prepared certificates (each above the checkpoint, within the window, below the new view). */
export function checkViewChange(
  vc: PbftViewChange,
  set: PbftValidatorSet,
  verifier: PbftVerifier,
  logWindow: number,
): Problem | null {
  const sig = checkReplicaSignature(vc, set, verifier);
  if (sig !== null) return sig;
  const proof = checkCheckpointProof(vc.checkpointProof, vc.checkpointSeq, set, verifier);
  if (!(proof instanceof Uint8Array))
    return problem(proof.reason, `view-change of replica ${vc.replica}: ${proof.detail}`);
  for (const c of vc.prepared) {
    const pp = c.prePrepare;
    if (pp.view >= vc.newView) {
      return problem('bad-view-change', `replica ${vc.replica}: certificate of view ${pp.view} >= ${vc.newView}`);
    }
    if (pp.seq <= vc.checkpointSeq || pp.seq > vc.checkpointSeq + logWindow) {
      return problem('bad-view-change', `replica ${vc.replica}: certificate for ${pp.seq} outside its window`);
    }
    const p = checkPreparedProof(c, set, verifier);
    if (p !== null) return problem(p.reason, `view-change of replica ${vc.replica}: ${p.detail}`);
  }
  return null;
}
